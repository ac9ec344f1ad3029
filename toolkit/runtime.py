"""Process-level tuning and the process pool, for entry points (CLI commands, pool workers).

Nothing here runs at import: a library must not change its host process's allocator.
"""

import ctypes
import functools
import itertools
import multiprocessing
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from typing import TypeVar

from toolkit import libvips
from toolkit.errors import ToolkitError, WorkerDiedError
from toolkit.signals import default_in_worker

T = TypeVar("T")
R = TypeVar("R")

# glibc <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ONE_GIB = 1 << 30
_START = struct.Struct("<qq")  # (worker pid, task id): a worker starting a task
DEATH_REPORT_S = 5.0  # how long a broken pool's dead worker may take to report its exit
_starts: Connection | None = None  # in a pool worker: where it says so


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


def init_worker(
    parent_alive: Connection | None = None,
    forked_writer: int | None = None,
    starts: Connection | None = None,
) -> None:
    """Start-up of a pool worker: allocator tuned, Ctrl-C left to the parent (which shuts
    the pool down; a worker of its own would print a traceback), SIGTERM and SIGHUP ending it
    (a forked worker inherited the parent's handlers), and, given the read end of a pipe whose
    only writer is the parent, exit as soon as the parent dies (a SIGKILL included), instead
    of waiting forever for work that will never come. A forked worker inherited the writer
    too (`forked_writer`): it closes its copy, or it would keep the pipe open itself.
    `starts` is where the worker says which task it starts (`ProcessPool`)."""
    global _starts
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    default_in_worker()
    tune_malloc()
    _starts = starts
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


def _tracked(task: int, fn: Callable[..., R], /, *args, **kwargs) -> R:
    """Run one task in a pool worker, having first told the parent which (`ProcessPool`)."""
    assert _starts is not None  # init_worker set it
    _starts.send_bytes(_START.pack(os.getpid(), task))  # one write: atomic on a pipe
    return fn(*args, **kwargs)


def available_cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def death_cause(exitcode: int | None) -> str:
    """`worker died: signal 9 (SIGKILL)`, or `... exit code 1`, for a worker's exit code."""
    if exitcode is not None and exitcode < 0:
        return f"worker died: signal {-exitcode} ({signal.Signals(-exitcode).name})"
    return f"worker died: exit code {exitcode}"


@dataclass(eq=False)
class _Task:
    """One submitted call: the caller's future, and the pool future now running it."""

    id: int
    future: Future
    call: tuple  # (fn, args, kwargs)
    inner: Future | None = None
    pool: ProcessPoolExecutor | None = None
    breaks: int = 0  # pools that broke under it without it being the cause

    def lost_with_its_pool(self) -> bool:
        """Still running or failed by the break: not a task that ended before it."""
        assert self.inner is not None  # a task in a pool has its pool future
        return not self.inner.done() or _broke(self.inner)


class ProcessPool(Executor):
    """The toolkit's process pool (sweeps, `toolkit encode`): `workers` processes,
    allocator-tuned, leaving Ctrl-C to the parent, gone when this process dies, however it
    dies, and outliving the death of any of its workers.

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

    A worker that dies (the kernel's OOM killer, a `kill -9`, a crash in a C library) breaks
    a `ProcessPoolExecutor`: every task in it fails. Here, each worker says on a pipe which
    task it starts, so the task the dead worker held fails alone, with a `WorkerDiedError`
    (`worker died: signal 9 (SIGKILL)`); a fresh pool takes over and the other unfinished
    tasks run again there. `deaths` counts the workers lost. A task under which pools keep
    breaking without a known cause fails after `MAX_BREAKS`.
    """

    MAX_BREAKS = 3

    def __init__(self, workers: int | None = None, preload: Sequence[str] = ()):
        method = _start_method()
        self._context = multiprocessing.get_context(method)
        if method == "forkserver" and preload:
            self._context.set_forkserver_preload(list(preload))
        reader, self._alive = multiprocessing.Pipe(duplex=False)
        self._starts, starts = multiprocessing.Pipe(duplex=False)
        forked_writer = self._alive.fileno() if method == "fork" else None
        self._initargs = (reader, forked_writer, starts)
        self.slots = workers or available_cpus()  # jobs run at once
        self.deaths = 0
        self._lock = threading.RLock()
        self._tasks: dict[int, _Task] = {}
        self._ids = itertools.count()
        self._started: dict[int, int] = {}  # worker pid -> the task it started last
        self._stopping = False  # terminate() or a cancelling shutdown: do not restart
        self._closed = False
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.slots, self._context, initializer=init_worker, initargs=self._initargs
        )

    def pids(self) -> list[int]:
        """The current workers' process ids (for measurements)."""
        return list(getattr(self._pool, "_processes", None) or {})

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            task = _Task(next(self._ids), Future(), (fn, args, kwargs))
            self._tasks[task.id] = task
            settle = self._run(task)
        task.future.add_done_callback(lambda future: self._cancelled(task, future))
        _settle_all(settle)
        return task.future

    def _run(self, task: _Task) -> list[tuple[_Task, object]]:
        """Start `task` in the current pool (the lock held). A pool found broken (an idle
        worker killed, or a death whose news has not reached `_finished` yet) is recovered
        from first: its tasks, which would otherwise wait forever, fail or run again, and what
        that settles is returned, to be settled once the lock is let go."""
        fn, args, kwargs = task.call
        settle: list[tuple[_Task, object]] = []
        try:
            inner = self._pool.submit(_tracked, task.id, fn, *args, **kwargs)
        except BrokenProcessPool:
            settle = self._recover(self._pool)
            if self._stopping:
                self._tasks.pop(task.id)
                return [*settle, (task, None)]
            inner = self._pool.submit(_tracked, task.id, fn, *args, **kwargs)
        task.pool, task.inner = self._pool, inner
        inner.add_done_callback(lambda done: self._finished(task, done))
        return settle

    def _cancelled(self, task: _Task, future: Future) -> None:
        if future.cancelled() and task.inner is not None:
            task.inner.cancel()

    def _finished(self, task: _Task, inner: Future) -> None:
        """A pool future is done: settle the caller's, or recover from a broken pool."""
        with self._lock:
            self._drain_starts()
            if inner is not task.inner or task.id not in self._tasks:
                return  # superseded (the task runs again in a newer pool) or settled
            if _broke(inner):
                settle = self._recover(task.pool)
            else:
                self._tasks.pop(task.id)
                settle = [(task, inner)]
        _settle_all(settle)

    def _drain_starts(self) -> None:
        while self._starts.poll():
            pid, task = _START.unpack(self._starts.recv_bytes())
            self._started[pid] = task

    def _recover(self, broken: ProcessPoolExecutor | None) -> list[tuple[_Task, object]]:
        """After `broken` lost a worker (the lock held): the dead workers' tasks fail, the
        others run again in a new pool; (task, outcome) pairs to settle are returned."""
        if broken is not self._pool:
            return []  # already recovered from
        held = {}
        for pid, exitcode in ({} if self._stopping else _dead(broken)).items():
            self.deaths += 1
            if pid in self._started:
                held[self._started.pop(pid)] = death_cause(exitcode)
        # A task that ended before the break is settled by its own `_finished`, which waits
        # for the lock; the others fail or run again.
        lost = [t for t in self._tasks.values() if t.pool is broken and t.lost_with_its_pool()]
        settle: list[tuple[_Task, object]] = []
        if not self._stopping:
            self._pool = self._new_pool()
        for task in lost:
            task.breaks += task.id not in held
            if task.id in held or self._stopping or task.breaks >= self.MAX_BREAKS:
                self._tasks.pop(task.id)
                cause = held.get(task.id) or "worker pool broke while this item was in it"
                settle.append((task, None if self._stopping else WorkerDiedError(cause)))
            else:
                settle += self._run(task)
        return settle

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            self._stopping = self._stopping or cancel_futures
            tasks = list(self._tasks.values())
        if cancel_futures:
            for task in tasks:
                task.future.cancel()
        if wait:  # tasks a broken pool hands on run in its successor: wait for them all
            futures_wait([task.future for task in tasks])
        with self._lock:
            pool = self._pool
        pool.shutdown(wait, cancel_futures=cancel_futures)
        if wait:
            self._alive.close()

    def terminate(self) -> None:
        """Cancel what has not started and stop the running workers now."""
        with self._lock:
            self._stopping = True
        self._alive.close()
        self.shutdown(wait=True, cancel_futures=True)


def _dead(broken: ProcessPoolExecutor) -> dict[int, int]:
    """The workers of a pool that just broke that are dead, with their exit codes (the pool
    stops the others after this). The pool notices a death when the worker's pipes close,
    a moment before its exit status can be read: that status is waited for, briefly."""
    processes = dict(getattr(broken, "_processes", None) or {})
    ready = wait_any([process.sentinel for process in processes.values()], DEATH_REPORT_S)
    for process in processes.values():
        if process.sentinel in ready:
            process.join(DEATH_REPORT_S)
    dead = {pid: p.exitcode for pid, p in processes.items() if p.exitcode is not None}
    # Having lost one, the pool ends the rest with SIGTERM: those are not deaths of their own
    # (news of the break can come late, when they are already gone), unless all are.
    first = {pid: code for pid, code in dead.items() if code != -signal.SIGTERM}
    return first or dead


def _broke(inner: Future) -> bool:
    """Whether a pool future failed because its pool broke (a worker died)."""
    return (
        inner.done() and not inner.cancelled() and isinstance(inner.exception(), BrokenProcessPool)
    )


def _settle_all(settle: list[tuple[_Task, object]]) -> None:
    for task, outcome in settle:
        task.call = ()  # the arguments (an image's bytes) are not needed any more
        _settle(task.future, outcome)


def _settle(future: Future, outcome: object) -> None:
    """Give the caller's `future` the pool future's outcome or an error; None (or a pool
    future cancelled) cancels it. Either way its waiters are told (`concurrent.futures.wait`
    counts a cancelled future as done only once it is)."""
    if outcome is None or (isinstance(outcome, Future) and outcome.cancelled()):
        future.cancel()
    if not future.set_running_or_notify_cancel():
        return  # cancelled, by the caller or just now
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
        return
    assert isinstance(outcome, Future)
    if (error := outcome.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome.result())


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
                yield _result(futures.pop(i))
        finally:  # stopped early (an error, Ctrl-C): what has not started never will
            for future in futures.values():
                future.cancel()


def _result(future: "Future[R | ToolkitError]") -> R | ToolkitError:
    """A pool future's result, or the `WorkerDiedError` of an item whose worker died."""
    try:
        return future.result()
    except WorkerDiedError as exc:
        return exc
