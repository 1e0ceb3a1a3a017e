"""Parse an import's CSV in a child process while this process writes (I/O: a process and a pipe).

A large import has two CPU-heavy halves: parsing (pandas and our per-column code) and writing (the
driver binding rows, the store). In one process they take turns on the GIL even in two threads (the
SQLite driver thread takes it for every row it binds), so on a machine with two cores the child
parses the next chunks while this process writes. The child runs :func:`iter_import` and sends what
it yields, pickled, over a pipe: the detected file first, then each chunk. The pipe holds little, so
the child is at most about one chunk ahead of the reader and memory stays bounded.

Failures keep the command's contract: a file the child refuses arrives as the same ``BotError``
(same key and params) the in-process path raises; a child that dies or fails unexpectedly becomes
``BotError("kpi.import.worker_failed")``, never a hang. The child lives in its own process group (a
terminal's Ctrl-C reaches only this process, which stops it) and, on Linux, is killed by the kernel
if this process dies first (SIGTERM, SIGKILL); elsewhere it stops at its next write to the pipe.

The child is ``python -m bot.kpi.import_worker FD PARENT_PID`` with the job pickled on its stdin.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from bot.config import SearchConsoleSettings
from bot.errors import BotError

if TYPE_CHECKING:
    from bot.kpi.columns import ImportChunk

#: Files at least this large are parsed in a child process. Below it the child's start-up (an
#: interpreter importing pandas, ~0.5 s of CPU) costs about as much as it saves.
WORKER_MIN_BYTES = 4 * 2**20
#: How long the child may take to stop once asked (it is killed after that).
_STOP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Recognised:
    """What the file was recognised as, for the report's first line."""

    label_key: str
    encoding: str
    #: The format's name (``x_content``, ``youtube_chart`` …).
    format: str = ""


@dataclass(frozen=True, slots=True)
class ParseJob:
    """What to parse: the arguments of :func:`bot.kpi.importers.iter_import`, plain enough to send
    to the child (building them needs no pandas, so neither does this process).

    Attributes:
        period: what a Search Console export covers (``--period``), with ``search_console``.
    """

    path: Path
    kind: Literal["posts", "kpi"] | None
    format: str | None
    tz: ZoneInfo
    accounts: Mapping[str, str]
    account: str | None
    chunk_rows: int
    period: str | None
    search_console: SearchConsoleSettings
    kpis: tuple[str, ...]
    #: Account key → its handle and platform id (rows naming their account are filed under it).
    identities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: A Search Console export spanning several months: sum branded search, record nothing.
    unrecorded_period: bool = False
    #: A table unpacked from a Search Console zip (its ``Chart.csv`` is taken only then).
    part_of_zip: bool = False

    def open(self) -> tuple[Recognised, Iterator[ImportChunk]]:
        """Recognise the file here and now; the chunks are parsed while iterating.

        Raises:
            BotError: ``imports.errors.*`` (see :func:`bot.kpi.importers.iter_import`).
        """
        from bot.kpi.importers import SearchConsoleOptions, iter_import  # pandas loads only here

        sc = self.search_console
        options = (
            SearchConsoleOptions(kpi=sc.kpi, period=self.period, brand_terms=sc.brand_terms, metric=sc.metric)
            if sc.kpi and (self.period or self.unrecorded_period)
            else None
        )
        detected, chunks = iter_import(
            self.path,
            kind=self.kind,
            format=self.format,
            tz=self.tz,
            accounts=self.accounts,
            account=self.account,
            chunk_rows=self.chunk_rows,
            search_console=options,
            kpis=self.kpis,
            identities=self.identities,
            part_of_zip=self.part_of_zip,
        )
        return Recognised(detected.format.label_key, detected.encoding, detected.format.name.value), chunks


class ParseWorker:
    """A child process parsing one file; use as a context manager (the child is always stopped).

    ``start()`` launches it; ``recognised()`` waits for what it recognised the file as (or raises
    its ``BotError``); ``chunks()`` then yields the chunks in file order. The last two block: run
    them in a thread from async code.
    """

    def __init__(self, job: ParseJob) -> None:
        self._job = job
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        # stop() runs from the reading thread (a failure) and from the owner (the end): one at a
        # time, so the pipe is closed once (a second close could hit a reused descriptor).
        self._stopping = threading.Lock()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the child and send it the job (call it from the main thread: on Linux the child
        is tied to the life of the thread that starts it).

        Raises:
            BotError: ``kpi.import.worker_failed`` when no process can be started.
        """
        read_fd, write_fd = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(write_fd), str(os.getpid())],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=_child_env(),
                process_group=0,  # a terminal's Ctrl-C goes to us; we stop the child
            )
        except OSError as exc:
            os.close(read_fd)
            raise BotError("kpi.import.worker_failed", detail=exc.strerror or str(exc)) from exc
        finally:
            os.close(write_fd)  # the child's copy is the only writer: its death ends our reads
        self._conn = Connection(read_fd, writable=False)
        assert self._process.stdin is not None
        try:
            with self._process.stdin as stdin:
                stdin.write(pickle.dumps(self._job, protocol=pickle.HIGHEST_PROTOCOL))
        except BrokenPipeError:
            pass  # it died already; the first read says how

    def recognised(self) -> Recognised:
        """Wait for what the child recognised the file as (blocking).

        Raises:
            BotError: the file's own ``imports.errors.*``, or ``kpi.import.worker_failed``.
        """
        message = self._receive()
        if message[0] != "recognised":
            raise self._failure(f"unexpected message {message[0]!r}")
        recognised: Recognised = message[1]
        return recognised

    def chunks(self) -> Iterator[ImportChunk]:
        """The file's chunks, as the child parses them.

        Raises:
            BotError: ``imports.errors.*`` found mid-file (e.g. a malformed CSV), or
                ``kpi.import.worker_failed``.
        """
        while True:
            message = self._receive()
            if message[0] == "end":
                return
            if message[0] != "chunk":
                raise self._failure(f"unexpected message {message[0]!r}")
            yield message[1]

    def stop(self) -> None:
        """End the child (at once if it is still working) and reap it; safe to call twice."""
        with self._stopping:
            if self._process is not None and self._process.returncode is None:
                self._process.kill()  # SIGKILL: a child busy parsing would not read a polite request
                try:
                    self._process.wait(timeout=_STOP_SECONDS)
                except subprocess.TimeoutExpired:  # pragma: no cover (SIGKILL cannot be ignored)
                    pass
            # Closed after the kill: a thread blocked reading the pipe wakes up with EOF, not never.
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _receive(self) -> tuple[Any, ...]:
        if self._conn is None:
            raise self._failure("stopped")
        try:
            message: tuple[Any, ...] = self._conn.recv()
        except EOFError:
            raise self._failure(None) from None
        except (OSError, pickle.UnpicklingError) as exc:
            raise self._failure(f"{type(exc).__name__}: {exc}") from exc
        if message[0] == "refused":
            _, key, params = message
            raise BotError(key, **params)
        if message[0] == "crashed":
            raise self._failure(message[1])
        return message

    def _failure(self, detail: str | None) -> BotError:
        """The child stopped (or misbehaved): stop it and say how, for a person."""
        code = None
        if self._process is not None:
            try:
                code = self._process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.stop()
                code = self._process.returncode
        if detail is None:
            if code is not None and code < 0:
                try:
                    detail = signal.Signals(-code).name
                except ValueError:
                    detail = f"signal {-code}"
            else:
                detail = f"exit status {code}"
        self.stop()
        return BotError("kpi.import.worker_failed", detail=detail)


def _child_env() -> dict[str, str]:
    """Our environment, with the directory holding ``bot`` first on the child's import path."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


# ------------------------------------------------------------------------------------ the child


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills us if the parent dies (SIGTERM or SIGKILL leave no orphan)."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _child(write_fd: int) -> int:
    out = Connection(write_fd, readable=False)
    try:
        job: ParseJob = pickle.load(sys.stdin.buffer)
        try:
            recognised, chunks = job.open()
            out.send(("recognised", recognised))
            for chunk in chunks:
                out.send(("chunk", chunk))
            out.send(("end",))
        except BotError as error:
            out.send(("refused", error.key, error.params))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except BaseException as exc:  # anything else: tell the parent, in one short line
            out.send(("crashed", f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}".rstrip(": ")))
            return 1
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return 1  # the parent stopped reading: it has gone, or no longer wants the rest
    finally:
        out.close()
    return 0


if __name__ == "__main__":
    _die_with_parent(int(sys.argv[2]))
    sys.exit(_child(int(sys.argv[1])))
