"""Process-level tuning and worker pools for entry points (CLI commands, pool workers).

Nothing here runs at import: a library must not change its host process's allocator.
"""

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing.connection import Connection

from toolkit import libvips

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


def init_worker(parent_alive: Connection | None = None) -> None:
    """Start-up of a pool worker: allocator tuned, Ctrl-C left to the parent (which shuts
    the pool down; a worker of its own would print a traceback), and, given the read end of
    a pipe whose only writer is the parent, exit as soon as the parent dies (a SIGKILL
    included), instead of waiting forever for work that will never come."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_malloc()
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


def process_pool(workers: int) -> Executor:
    """A process pool whose workers are allocator-tuned.

    On Linux the workers fork (milliseconds, not the ~0.3 s of re-importing per worker): the
    CLI parent has started no threads of its own. Once libvips has run here (its worker
    threads make a forked child hang), they start from a fresh `forkserver` instead.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(_start_method()),
        initializer=init_worker,
    )


def _start_method() -> str | None:
    """`fork` where it is safe and cheap, else `forkserver` (None: the platform's default)."""
    methods = multiprocessing.get_all_start_methods()
    if not sys.platform.startswith("linux"):
        return None
    if "fork" in methods and libvips.fork_safe():
        return "fork"
    return "forkserver" if "forkserver" in methods else None
