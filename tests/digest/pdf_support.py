"""Reading a digest's PDF back in tests: its pages, its text and its embedded fonts (pypdf, test-only)."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_reader(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-"), data[:20]
    return PdfReader(io.BytesIO(data))


def pdf_text(data: bytes) -> str:
    """The text of every page, as a reader extracts it (lines joined with newlines)."""
    return "\n".join(page.extract_text() or "" for page in pdf_reader(data).pages)


def embedded_fonts(data: bytes) -> set[str]:
    """The base names of the fonts embedded in the PDF (with a font file, not just referenced)."""
    names: set[str] = set()
    for page in pdf_reader(data).pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            for item in [font] + ([d.get_object() for d in descendants] if descendants else []):
                descriptor = item.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(item["/BaseFont"]))
    return names
