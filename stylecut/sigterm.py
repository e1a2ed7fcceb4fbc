"""SIGTERM ends a command the way Ctrl-C does.

Render farms and job schedulers stop a job with SIGTERM, whose default action
ends the process at once: no ``finally`` runs, so hidden temp files stay beside
the outputs and nothing is said. While a command runs, SIGTERM instead raises
:class:`~stylecut.errors.Terminated` (a KeyboardInterrupt) in the main thread,
so every clean-up written for Ctrl-C runs for it too; only the exit code
differs (143, the shell's 128 + 15, where Ctrl-C gives 130).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from stylecut.errors import Terminated

_received = threading.Event()  # a SIGTERM came during the command now running


def raise_on_sigterm() -> None:
    """From now on, the first SIGTERM of the command raises Terminated in the main thread; later ones are
    ignored, so that they cannot cut the clean-up short. Call it again after a library that installs its own
    handler (Ray's ``init``) has started. Only the main thread can handle signals: from another thread
    (a command run inside a test or a notebook) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if not _received.is_set():
            _received.set()
            raise Terminated

    signal.signal(signal.SIGTERM, handler)


def stopped_by_sigterm() -> bool:
    """Whether the KeyboardInterrupt ending the command came from SIGTERM. Asked of the signal, not of the
    exception: Ray turns any exception its signal check raises into a plain KeyboardInterrupt."""
    return _received.is_set()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises Terminated for the block; the previous handler comes back after it."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    raise_on_sigterm()
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
