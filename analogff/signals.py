"""SIGINT (Ctrl-C) and SIGTERM: stop within seconds, one line, exit 128 + the signal number
(130, 143), nothing half-written.

Python's default SIGINT handler raises KeyboardInterrupt wherever the interpreter notices the
signal, including inside a C call: Numba's dispatcher then fails with "SystemError:
CPUDispatcher(...) returned a result with an exception set" and a 40-line traceback. The
`analogff` command installs `install` instead: the handler only records the signal; a run
unwinds at its next safe point (`check`, called after every training batch) with `Interrupted`,
which the CLI turns into one line and the exit code. Where the main thread only waits (a
sweep's client), `raising` makes the handler raise at once. If no safe point comes within
`GRACE_S` (a kernel compiling, one long batch, ngspice) or a second signal arrives, the process
prints its line and exits at once: the results store writes one transaction per record, so
that loses only the run in progress, which was not stored yet (a sweep reruns it on resume).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# seconds from the first signal to a forced exit when no safe point is reached: long enough
# for the next batch boundary of a default run (~0.1-0.5 s), short enough to feel immediate
GRACE_S = 3.0


class Interrupted(BaseException):
    """The run was stopped by a signal (not an `Exception`: no handler may swallow it)."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(line(self.signum))


def line(signum: int) -> str:
    """The one line printed when stopping on ``signum``."""
    name = signal.Signals(signum).name
    return f"interrupted by {name}; unfinished runs were not stored (exit {128 + signum})"


class _State:
    signum: int | None = None
    timer: threading.Timer | None = None
    raise_at_once: bool = False
    installed: bool = False


_S = _State()


def _exit_now(signum: int) -> None:
    try:
        if sys.stderr.isatty():
            sys.stderr.write("\x1b[?25h")  # a progress bar may have hidden the cursor
        sys.stderr.write(line(signum) + "\n")
        sys.stderr.flush()
    finally:
        os._exit(128 + signum)


def _handler(signum, frame) -> None:
    if _S.signum is not None:          # a second signal: now
        _exit_now(signum)
    _S.signum = signum
    if _S.raise_at_once:
        raise Interrupted(signum)
    _S.timer = threading.Timer(GRACE_S, _exit_now, args=(signum,))
    _S.timer.daemon = True
    _S.timer.start()


def install() -> None:
    """Handle SIGINT and SIGTERM as described above (main thread only; idempotent)."""
    if _S.installed or threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    _S.installed = True


def check() -> None:
    """A safe point: raise `Interrupted` if a signal arrived (no-op otherwise)."""
    if _S.signum is not None:
        if _S.timer is not None:
            _S.timer.cancel()
        raise Interrupted(_S.signum)


def pending() -> int | None:
    """The signal received and not yet acted on, if any."""
    return _S.signum


@contextmanager
def raising() -> Iterator[None]:
    """Inside this block a signal raises `Interrupted` at once (for code that only waits:
    no C call for it to interrupt). A signal already pending raises on entry."""
    check()
    old = _S.raise_at_once
    _S.raise_at_once = True
    try:
        yield
    finally:
        _S.raise_at_once = old
