"""Benchmarks of the real ``sns-bot run`` process (dev tools; they import the fakes from ``tests/``)."""
