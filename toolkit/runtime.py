"""Process-level tuning and the process pool, for entry points (CLI commands, pool workers).

Nothing here runs at import: a library must not change its host process's allocator.
"""

import ctypes
import functools
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import TypeVar

from toolkit import libvips
from toolkit.errors import ToolkitError

T = TypeVar("T")
R = TypeVar("R")

# glibc <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ONE_GIB = 1 << 30


def tune_malloc() -> bool:
    """Keep freed image buffers in the glibc heap instead of returning them to the kernel.

    Every 12 MP decode otherwise touches ~12,000 fresh pages; on the project's VM that is
    ~20 ms of page faults per image (research/perf-anchors.md, "The allocator finding").
    Returns False where it does not apply (not glibc).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, _ONE_GIB)) and bool(
        mallopt(_M_MMAP_THRESHOLD, _ONE_GIB)
    )


def init_worker(parent_alive: Connection | None = None, forked_writer: int | None = None) -> None:
    """Start-up of a pool worker: allocator tuned, Ctrl-C left to the parent (which shuts
    the pool down; a worker of its own would print a traceback), and, given the read end of
    a pipe whose only writer is the parent, exit as soon as the parent dies (a SIGKILL
    included), instead of waiting forever for work that will never come. A forked worker
    inherited the writer too (`forked_writer`): it closes its copy, or it would keep the pipe
    open itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_malloc()
    if forked_writer is not None:
        os.close(forked_writer)
    if parent_alive is not None:
        threading.Thread(target=_exit_with, args=(parent_alive,), daemon=True).start()


def _exit_with(parent_alive: Connection) -> None:
    try:
        parent_alive.recv_bytes()  # the parent never writes: this returns at its death
    except (EOFError, OSError):
        pass
    os._exit(1)


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class ProcessPool(ProcessPoolExecutor):
    """The toolkit's process pool (sweeps, `toolkit encode`): `workers` processes,
    allocator-tuned, leaving Ctrl-C to the parent, and gone when this process dies, however
    it dies.

    Start method: `fork` when it is safe, which is what a command like `toolkit encode` is:
    on Linux, in a process running no other thread and in which libvips has not run (its
    worker threads make a forked child hang, research/perf-anchors.md); the workers then cost
    nothing to start. Otherwise (a notebook's kernel, a library caller with threads)
    `forkserver`: each worker is forked from a small server process that imported `preload`
    once (the first pool of a process decides what), so nothing of this process is copied
    into it, at the price of that server's start (about 0.3 s). `spawn` where there is no
    `forkserver` (Windows).

    Each worker holds the read end of a pipe whose only writer this process keeps
    (`init_worker`); `terminate()` closes it on purpose and the workers stop at once.
    """

    def __init__(self, workers: int | None = None, preload: Sequence[str] = ()):
        method = _start_method()
        context = multiprocessing.get_context(method)
        if method == "forkserver" and preload:
            context.set_forkserver_preload(list(preload))
        reader, self._alive = multiprocessing.Pipe(duplex=False)
        forked_writer = self._alive.fileno() if method == "fork" else None
        self.slots = workers or available_cpus()  # jobs run at once
        super().__init__(
            self.slots,
            context,
            initializer=init_worker,
            initargs=(reader, forked_writer),
        )

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait, cancel_futures=cancel_futures)
        if wait:
            self._alive.close()

    def terminate(self) -> None:
        """Cancel what has not started and stop the running workers now."""
        self._alive.close()
        self.shutdown(wait=True, cancel_futures=True)


def _start_method() -> str:
    """`fork` where it is safe (see `ProcessPool`), else `forkserver`, else `spawn`."""
    methods = multiprocessing.get_all_start_methods()
    safe = threading.active_count() == 1 and libvips.fork_safe()
    if sys.platform.startswith("linux") and "fork" in methods and safe:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _result_or_error(fn: Callable[[T], R], item: T) -> R | ToolkitError:
    try:
        return fn(item)
    except ToolkitError as exc:
        return exc


def map_in_order(
    fn: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    preload: Sequence[str] = (),
    cost: Callable[[T], float] | None = None,
) -> Iterator[R | ToolkitError]:
    """`fn` over `items`, results in input order, a `ToolkitError` it raises in place of its
    result; in a `ProcessPool` when there is more than one worker and item (`fn` must then be
    picklable: a module-level function or a `functools.partial` of one). With `cost` (an
    estimate of each item's work, e.g. its file size) the pool starts the costliest first, so
    that no large item is left running alone at the end."""
    call = functools.partial(_result_or_error, fn)
    workers = min(workers, len(items))
    if workers <= 1:
        yield from map(call, items)
        return
    order: Sequence[int] = range(len(items))
    if cost is not None:
        order = sorted(order, key=lambda i: cost(items[i]), reverse=True)
    with ProcessPool(workers, preload) as pool:
        futures = {i: pool.submit(call, items[i]) for i in order}
        try:
            for i in range(len(items)):
                yield futures.pop(i).result()
        finally:  # stopped early (an error, Ctrl-C): what has not started never will
            for future in futures.values():
                future.cancel()
