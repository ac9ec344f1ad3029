"""SIGTERM and SIGHUP stop a command the way Ctrl-C does.

`kill`, systemd, Docker and CI stop a process with SIGTERM; a closed terminal sends SIGHUP.
While `as_interrupt()` is active each of them is handed to the current SIGINT handler: plain
code gets a `KeyboardInterrupt`; under `asyncio.run` the main task is cancelled, so the
requests in flight are answered and recorded exactly as on Ctrl-C. A second one stops at
once, as a second Ctrl-C does. `Stop.exit_code` is 128 + the signal's number.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOPPING = (signal.SIGTERM, signal.SIGHUP)


class Stop:
    """Which signal stopped the run (None: none yet, or Ctrl-C)."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None

    def handle(self, signum: int, frame) -> None:
        self.signal = signal.Signals(signum)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler):  # SIGINT ignored (a background job): still stop
            raise KeyboardInterrupt
        handler(signal.SIGINT, frame)

    @property
    def name(self) -> str:
        return (self.signal or signal.SIGINT).name

    @property
    def exit_code(self) -> int:
        return 128 + (self.signal or signal.SIGINT)


@contextmanager
def as_interrupt() -> Iterator[Stop]:
    """SIGTERM and SIGHUP handled as Ctrl-C in this block (the previous handlers restored
    after it); a no-op outside the main thread, where signals cannot be handled."""
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {number: signal.signal(number, stop.handle) for number in STOPPING}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def default_in_worker() -> None:
    """In a forked pool worker: SIGTERM and SIGHUP end it (the parent's handlers are not its)."""
    for number in STOPPING:
        signal.signal(number, signal.SIG_DFL)
