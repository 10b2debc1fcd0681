"""Where evaluations run: this process, a local process pool, or a Dask cluster.

An :class:`Executor` is a ``map``-like callable (``executor(fn, items) -> list``, results in
the order of ``items``) that also says how many tasks it runs at once (``n_workers``). The
searches take one as ``workers``: batches of points (grid, random, differential evolution)
and groups of MCMC chains are handed to it. :func:`make_executor` picks one:

* no scheduler address: a :class:`ProcessExecutor` over ``concurrent.futures`` with one
  process per CPU (the default of :func:`~core.optimize.run_optimization`);
* a scheduler address (``tcp://host:8786``): a :class:`DaskExecutor`, a
  ``dask.distributed.Client`` connected to that scheduler; the functions and their
  arguments must be importable on the cluster's workers (the same ``core`` package).

Tasks must be picklable; results equal those of a serial run (every search draws its random
numbers in the calling process).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


class Executor:
    """Runs ``fn`` over ``items`` in this process (the base of the parallel executors)."""

    n_workers: int = 1

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return [fn(item) for item in items]

    def __call__(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return self.map(fn, items)

    def close(self) -> None:
        """Release the workers (the executor can no longer be used)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        return "serial"


class ProcessExecutor(Executor):
    """A local pool of ``n_workers`` processes, started at the first call.

    Parameters
    ----------
    n_workers : int, optional
        Processes (default one per CPU).
    """

    def __init__(self, n_workers: int | None = None):
        self.n_workers = max(1, int(n_workers or os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def map(self, fn, items):
        items = list(items)
        if self.n_workers == 1 or len(items) <= 1:
            return [fn(item) for item in items]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.n_workers)
        chunk = max(1, math.ceil(len(items) / (4 * self.n_workers)))
        return list(self._pool.map(fn, items, chunksize=chunk))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        return f"process pool ({self.n_workers} processes)"


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster.

    Parameters
    ----------
    address : str or None
        The scheduler's address (``tcp://127.0.0.1:8786``).
    client : distributed.Client, optional
        An existing client (``address`` is then ignored and the client is not closed).
    """

    def __init__(self, address: str | None = None, *, client: Any = None, timeout: float = 10):
        from distributed import Client

        self._own = client is None
        self.client = Client(address, timeout=timeout) if client is None else client
        self.address = self.client.scheduler.address

    @property
    def n_workers(self) -> int:
        threads = self.client.nthreads()
        return max(1, sum(threads.values()))

    def map(self, fn, items):
        items = list(items)
        if not items:
            return []
        futures = self.client.map(fn, items, pure=False)
        return self.client.gather(futures)

    def close(self) -> None:
        if self._own:
            self.client.close()

    def describe(self) -> str:
        return f"Dask cluster at {self.address} ({self.n_workers} workers)"


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """A :class:`DaskExecutor` on ``scheduler`` when given, else a :class:`ProcessExecutor`.

    The process executor has ``workers`` processes (default one per CPU; ``1`` runs serially).
    """
    if scheduler:
        return DaskExecutor(scheduler)
    if workers == 1:
        return Executor()
    return ProcessExecutor(workers)


def worker_count(workers: Any) -> int:
    """How many tasks ``workers`` (a count, ``-1`` for every CPU, or an executor) runs at once."""
    if callable(workers):
        return int(getattr(workers, "n_workers", os.cpu_count() or 1))
    if workers == -1:
        return os.cpu_count() or 1
    return max(1, int(workers))
