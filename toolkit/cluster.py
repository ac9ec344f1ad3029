"""Sweeps beyond one machine: an executor over an existing Dask cluster.

`toolkit sweep … --scheduler ADDRESS`, `write_sweep(..., scheduler=ADDRESS)` and a notebook's
`scheduler` parameter (`toolkit.sweep_executor`) send each image's work to the workers of the
cluster whose scheduler is at ADDRESS (`dask scheduler` on one machine, `dask worker ADDRESS`
on each of the others; every worker needs this toolkit at the same version, and the OCR
reader for OCR). Local images travel as bytes, scattered straight to a worker; URLs are read by the
workers (`toolkit.sources`). Results, the cache and the rows stay with the caller.

`dask[distributed]` is optional: it is imported here, and only when an address is given.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from importlib.metadata import version

from toolkit.errors import SettingsError
from toolkit.readers import reader_unavailable

CONNECT_TIMEOUT_S = 10
HOST_PORT_SCHEMES = ("tcp", "tls", "ws", "wss")  # addresses of the form host:port


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SettingsError(
            "a Dask scheduler needs dask[distributed]: pip install 'dask[distributed]'"
        ) from None
    return distributed


def _toolkit_version() -> str:
    return version("toolkit")


def _check_address(address: str) -> None:
    """`SettingsError` for an address no Dask client could use (an unknown scheme, a port
    that is not a number), before a client is made: a client that fails to start leaves a
    traceback and a 20 s wait at exit behind it."""
    from distributed.comm import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme in HOST_PORT_SCHEMES and not 0 < parse_host_port(location)[1] < 65536:
            raise ValueError("the port must be 1-65535")
    except ValueError as exc:
        raise SettingsError(f"not a Dask scheduler address: {address!r}: {exc}") from None


class DaskExecutor(Executor):
    """A `concurrent.futures.Executor` over the Dask cluster at `address`, checked on
    connection: the scheduler answers within `timeout` seconds (default `CONNECT_TIMEOUT_S`)
    and has workers, each with this toolkit's version (and able to run the OCR `readers`);
    else a `SettingsError` saying which.

    `bytes` arguments are scattered to a worker first (not sent through the scheduler's task
    graph). `shutdown()` closes this client only: the cluster keeps running.
    """

    def __init__(
        self, address: str, *, readers: tuple[str, ...] = (), timeout: float | None = None
    ):
        distributed = _distributed()
        timeout = timeout or CONNECT_TIMEOUT_S
        _check_address(address)
        try:
            self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SettingsError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self._check_workers(address, readers)
        except BaseException:
            self.client.close()
            raise
        self._executor = self.client.get_executor(pure=False)

    def _check_workers(self, address: str, readers: tuple[str, ...]) -> None:
        workers = self.client.scheduler_info()["workers"]
        if not workers:
            raise SettingsError(f"the Dask scheduler at {address} has no workers")
        ours = _toolkit_version()
        found = self.client.run(version, "toolkit", on_error="return")
        wrong = {w: v for w, v in found.items() if v != ours}
        if wrong:
            shown = ", ".join(f"{w}: {v!r}" for w, v in sorted(wrong.items())[:3])
            raise SettingsError(
                f"Dask workers at {address} need toolkit {ours} installed ({shown})"
            )
        for name in readers:
            found = self.client.run(reader_unavailable, name)
            missing = {w: r for w, r in found.items() if r}
            if missing:
                worker, reason = next(iter(missing.items()))
                raise SettingsError(f"OCR cannot run on Dask worker {worker}: {reason}")

    @property
    def slots(self) -> int:
        """Jobs the cluster runs at once: its workers' threads."""
        workers = self.client.scheduler_info()["workers"].values()
        return sum(w.get("nthreads", 1) for w in workers) or 1

    def submit(self, fn, /, *args, **kwargs) -> Future:
        sent = [self.client.scatter(a, hash=False) if isinstance(a, bytes) else a for a in args]
        return self._executor.submit(fn, *sent, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures or not wait:
            self._executor.shutdown(wait=False)  # cancels what is still queued
        self.client.close()

    def terminate(self) -> None:
        """Cancel everything not finished and disconnect (Ctrl-C)."""
        self.shutdown(wait=False, cancel_futures=True)
