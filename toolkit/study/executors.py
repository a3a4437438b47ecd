"""Where a sweep's solves run: in this process, in a local process pool, or on a dask cluster.

The unit of work is a *chain*: consecutive points of a sweep that differ in intensity only (same rider, fit,
condition and cadence), solved in order, each warm-started from the last successful solution before it in the
chain (`solve_chain`). A warm start that fails is retried once from the cold (kinematic) guess before the point
is declared failed; with [solver] multistart > 1 every point is solved from its cold starts and the warm start,
the best kept (`solve_point`, also used by `reproduce`). Workers never touch the result file: they hand back
one `PointResult` per point and the parent process writes it (see toolkit.study.runner).

Executors (`make_executor(name, jobs, scheduler)`), all used as ``with ex: for r in ex.run(chains): ...`` (one
result at a time) or ``for batch in ex.run_batches(chains)`` (every result ready at that moment, so the parent
can store them in one file rewrite):

- `LocalExecutor(jobs)`: jobs == 1 (or a single chain) solves in this process, point by point. jobs > 1 runs
  the chains in a `concurrent.futures.ProcessPoolExecutor` with the "spawn" start method (casadi after fork is
  fragile); every worker puts each finished point on a queue at once, so the parent can store it before the
  rest of the chain is solved. A worker that dies (killed, out of memory, a crash in native code) breaks the
  pool: a new pool is started for the unfinished points (each chain continuing from its last success), up to
  `max_pool_restarts` times (and only if the broken pool had finished a point: workers that cannot even start
  are not restarted); after that they come back as failures with status "Worker_Lost" (not stored as
  results, so `run --resume` solves them again). Workers run their numeric libraries single-threaded
  (THREAD_ENV), so N jobs use N cores.
- `DaskExecutor(scheduler, jobs)`: a dask.distributed Client connected to `scheduler` (an address such as
  tcp://host:8786), or to a LocalCluster of `jobs` single-threaded worker processes when scheduler is None.
  Every point is its own task that depends on the previous point's task of its chain, so warm starts pass
  from task to task and results still stream back point by point (dask keeps a chain on the worker holding
  its last result). Dask retries tasks of a lost worker itself; a task that errors comes back as
  "Task_Error", one that is cancelled or lost for good as "Worker_Lost".

Process-local solver cache: building a structure's NLP functions costs ~0.1-0.3 s (and loads its compiled
derivatives, see toolkit.ocp.compiled), so each worker thread keeps one solver (and one `Setup` per rider and fit) in a thread-local cache (`worker_solver`) for all
the chains it is given. Pool workers are single-threaded, so this is one solver per process; a dask worker
with several threads has one per thread (casadi functions are not shared between threads).
"""
from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import queue as queue_mod
import sys
import threading
import time
import traceback
import uuid
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ..model.anthropometry import Rider
from ..model.bikefit import BikeFit
from ..ocp.problem import ProblemSpec
from ..ocp.solution import Solution, SolverStats

__all__ = [
    "EXECUTORS", "DASK_MISSING", "ExecutorUnavailable", "PointTask", "ChainTask", "PointResult", "solve_chain",
    "solve_point", "point_setup", "worker_solver", "LocalExecutor", "DaskExecutor", "make_executor", "dask_available",
]

EXECUTORS = ("local", "dask")
DASK_MISSING = "--executor: dask is not installed (allowed: local, or pip install '.[dask]')"


class ExecutorUnavailable(ValueError):
    """The requested executor cannot be used here (bad input, exit code 2)."""


# ----------------------------------------------------------------------------------------------------------
# Tasks and results (plain picklable dataclasses)
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PointTask:
    """One point to solve: its key, rider, bike fit and problem."""

    key: str
    rider: Rider
    fit: BikeFit
    spec: ProblemSpec


@dataclass(frozen=True)
class ChainTask:
    """Points solved in order in one worker, each warm-started from the last success before it.
    guess: a solution to warm-start the first point from (e.g. the stored neighbour when resuming)."""

    chain_id: int
    points: tuple[PointTask, ...]
    guess: Solution | None = None
    warm_start: bool = True

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.points]


@dataclass
class PointResult:
    """The outcome of one point. solution: the solver's Solution (sealed when the solve failed), or None when
    no solve could be made (the rider does not fit the bike, an error). start: 'warm', 'cold', 'cold-retry'
    (the warm start failed and the cold retry is the result), 'multistart' ([solver] multistart > 1: cold starts
    and the warm start, the best) or 'none'. last_good: the solution the next point
    of the chain warm-starts from (this one if it succeeded, else the one before)."""

    key: str
    stats: SolverStats
    solution: Solution | None = None
    start: str = "none"
    worker: str = ""
    elapsed_s: float = 0.0
    last_good: Solution | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.solution is not None and self.stats.success and not self.solution.sealed

    @property
    def message(self) -> str:
        return self.stats.message or self.stats.status

    def as_solution(self, spec: ProblemSpec) -> Solution:
        """The solver's Solution, or a sealed stand-in (these stats, no arrays) when no solve could be made."""
        return self.solution if self.solution is not None else Solution(spec, self.stats, {}, sealed=True)


def _failure_stats(status: str, message: str) -> SolverStats:
    return SolverStats(False, status, 0, 0.0, 0.0, math.nan, math.inf, (), message)


# ----------------------------------------------------------------------------------------------------------
# The worker side
# ----------------------------------------------------------------------------------------------------------

_local = threading.local()


def worker_solver():
    """This thread's PedalingSolver, built on first use and kept for every later chain (process-local cache)."""
    solver = getattr(_local, "solver", None)
    if solver is None:
        from ..ocp.solve import PedalingSolver

        solver = _local.solver = PedalingSolver()
        _local.setups = {}
    return solver


_solver_setups: dict[int, tuple[Any, dict]] = {}  # id(solver) -> (weak reference to it, its setups)


def _worker_setup(rider: Rider, fit: BikeFit, solver=None):
    """The Setup of a rider on a fit, cached per thread (make_setup may raise FitError); with a given solver,
    cached per solver instead."""
    from ..model.leg import make_setup

    if solver is None:
        solver = worker_solver()
        setups = _local.setups
    else:
        entry = _solver_setups.get(id(solver))
        if entry is None or entry[0]() is not solver:  # new, or a dead solver's id reused
            entry = _solver_setups[id(solver)] = (weakref.ref(solver), {})
        setups = entry[1]
    key = repr((rider, fit))
    if key not in setups:
        setups[key] = make_setup(solver.model, rider, fit)
    return setups[key]


def point_setup(rider: Rider, fit: BikeFit, solver=None):
    """The Setup `solve_point` solves a rider on a fit with (cached per solver; may raise FitError)."""
    return _worker_setup(rider, fit, solver)


def _worker_name() -> str:
    return f"{os.uname().nodename if hasattr(os, 'uname') else 'host'}:{os.getpid()}"


def _from_starts(solver, setup, spec: ProblemSpec, guess: Solution | None) -> Solution:
    return solver.solve_from_starts(setup, spec, guess)


def solve_point(task: PointTask, guess: Solution | None = None, solver=None,
                starts: Callable[[Any, Any, ProblemSpec, Solution | None], Solution] | None = None) -> PointResult:
    """Solve one point: the one per-point solve of `run`'s workers and of `reproduce` (its default loop and the
    heel-drop study's).

    With [solver] multistart > 1: `solver.solve_from_starts` (the cold starts plus a warm start from `guess`,
    the best of them); `starts(solver, setup, spec, guess)` replaces that strategy (a study's own, e.g.
    solvers.starts.best_of_starts) and is then used whatever multistart is. Otherwise warm-started from `guess` when
    given, with one cold retry if that fails; cold without a guess. solver: a PedalingSolver (default: this
    thread's `worker_solver()`). Never raises for a failed solve, an unreachable fit or an error in the solver:
    those come back as failed PointResults."""
    t0 = time.perf_counter()
    worker = _worker_name()
    try:
        own = solver
        solver = solver if solver is not None else worker_solver()
        try:
            setup = _worker_setup(task.rider, task.fit) if own is None else _worker_setup(task.rider, task.fit, own)
        except ValueError as e:  # FitError (saddle rule, reach) and the bike-fit checks
            return PointResult(task.key, _failure_stats("Fit_Error", str(e)), None, "none", worker,
                               time.perf_counter() - t0, guess)
        start = "cold"
        if starts is not None or task.spec.solver.multistart > 1:  # cold starts included: no separate retry
            sol = (starts or _from_starts)(solver, setup, task.spec, guess)
            start = "multistart"
        elif guess is not None:
            sol = solver.solve(setup, task.spec, guess=guess)
            start = "warm"
            if not sol.stats.success and sol.stats.status != "Infeasible_Request":
                cold = solver.solve(setup, task.spec)
                if cold.stats.success:
                    sol, start = cold, "cold-retry"
                else:  # report both attempts
                    msg = (f"{cold.stats.message or cold.stats.status} (cold start; the warm start ended with "
                           f"{sol.stats.status})")
                    sol = dataclasses.replace(cold, stats=dataclasses.replace(cold.stats, message=msg), sealed=True)
                    start = "cold-retry"
        else:
            sol = solver.solve(setup, task.spec)
        ok = sol.stats.success and not sol.sealed
        return PointResult(task.key, sol.stats, sol, start, worker, time.perf_counter() - t0,
                           sol if ok else guess)
    except Exception as e:  # a bug or a native error: recorded as a failure, the sweep goes on
        tb = traceback.format_exc()
        print(f"error while solving {task.key}:\n{tb}", file=sys.stderr, flush=True)
        return PointResult(task.key, _failure_stats("Error", f"{type(e).__name__}: {e}"), None, "none", worker,
                           time.perf_counter() - t0, guess)


def solve_problem(rider: Rider, fit: BikeFit, spec: ProblemSpec, guess: Solution | None = None, solver=None
                  ) -> Solution:
    """One problem through the per-point solve of `run` and `reproduce` (`solve_point`: the same starts, cold
    retry and failure handling), for the CLI's `solve` and the Python API's `toolkit.solve`. A failed solve or an
    unreachable fit comes back sealed."""
    return solve_point(PointTask("-", rider, fit, spec), guess, solver=solver).as_solution(spec)


def iter_chain(chain: ChainTask) -> Iterator[PointResult]:
    """Solve a chain's points in order, yielding each result as soon as it is known."""
    guess = chain.guess if chain.warm_start else None
    for p in chain.points:
        r = solve_point(p, guess)
        if chain.warm_start:
            guess = r.last_good
        yield r


def solve_chain(chain: ChainTask) -> list[PointResult]:
    """All results of a chain (for executors without streaming)."""
    return [_slim(r) for r in iter_chain(chain)]


def _slim(r: PointResult) -> PointResult:
    """Drop last_good before sending a result to the parent (it only matters inside the chain)."""
    r.last_good = None
    return r


_queue = None
_parent_pid = None


def _pool_init(q) -> None:
    """Pool worker start-up: the result queue, and a watchdog that ends this worker when the parent process
    is gone (killed: the pool's own queues would keep an idle worker waiting forever)."""
    global _queue, _parent_pid
    _queue = q
    _parent_pid = os.getppid()
    threading.Thread(target=_watch_parent, name="parent-watchdog", daemon=True).start()


def _watch_parent(interval_s: float = 1.0) -> None:
    while True:
        time.sleep(interval_s)
        if os.getppid() != _parent_pid:
            os._exit(1)


def _pool_chain(chain: ChainTask) -> int:
    """Pool task: solve a chain, putting each result on the queue as it finishes, then a ('done', id) mark."""
    n = 0
    try:
        for r in iter_chain(chain):
            _queue.put(("point", chain.chain_id, _slim(r)))
            n += 1
    finally:
        _queue.put(("done", chain.chain_id, n))
    return n


def _dask_point(task: PointTask, prev: PointResult | Solution | None, warm_start: bool) -> PointResult:
    """Dask task: one point warm-started from the previous point's result (a dependency)."""
    guess = None
    if warm_start:
        guess = prev.last_good if isinstance(prev, PointResult) else prev
    return solve_point(task, guess)


# ----------------------------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------------------------

def _lost(chain: ChainTask, done: set[str], why: str) -> Iterator[PointResult]:
    for p in chain.points:
        if p.key not in done:
            yield PointResult(p.key, _failure_stats("Worker_Lost", why))


class LocalExecutor:
    """Chains in this process (jobs == 1) or in a pool of `jobs` spawned processes, results per point."""

    name = "local"
    #: A pool broken by a dead worker is started again this many times for the unfinished points.
    max_pool_restarts = 2

    def __init__(self, jobs: int = 1) -> None:
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ExecutorUnavailable(f"--jobs: {jobs!r} (allowed: an integer >= 1)")
        self.jobs = jobs
        self.workers = jobs
        self._pool = None
        self._last_good: dict[int, Solution] = {}
        self._round_results = 0

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            _stop_pool(pool)

    def run(self, chains: Iterable[ChainTask]) -> Iterator[PointResult]:
        """Results one by one, as they finish."""
        for batch in self.run_batches(chains):
            yield from batch

    def run_batches(self, chains: Iterable[ChainTask]) -> Iterator[list[PointResult]]:
        """Results as they finish, grouped: each list holds every result that was ready at that moment (one
        point at a time in-process), so a busy parent can store several in one file write."""
        chains = list(chains)
        if self.jobs == 1 or len(chains) <= 1:
            for c in chains:
                for r in iter_chain(c):
                    yield [_slim(r)]
            return
        pending = chains
        for attempt in range(self.max_pool_restarts + 1):
            lost = yield from self._pool_round(pending)
            if not lost:
                return
            why = "; ".join(sorted({w for _, _, w in lost}))
            if attempt == self.max_pool_restarts or not self._round_results:
                # no restart when the pool solved nothing at all: workers that cannot start (e.g. a script
                # without the `if __name__ == "__main__":` guard that spawn needs) would only fail again
                hint = "" if self._round_results else (
                    "; no worker finished a point: if a script runs the sweep with jobs > 1, put the call under "
                    "`if __name__ == \"__main__\":` (the spawn start method re-imports the script)")
                yield [r for c, done, w in lost for r in _lost(c, done, w + hint)]
                return
            n_left = sum(len(c.points) - len(done) for c, done, _ in lost)
            print(f"warning: a worker process died ({why}); restarting the pool for the {n_left} point(s) not "
                  "finished", file=sys.stderr, flush=True)
            pending = [ChainTask(c.chain_id, tuple(p for p in c.points if p.key not in done), g, c.warm_start)
                       for c, done, g in ((c, done, self._last_good.get(c.chain_id, c.guess)) for c, done, _ in lost)]

    def _pool_round(self, chains: list[ChainTask]):
        """Run chains in a fresh pool, yielding results; return [(chain, reported keys, why)] of the chains a
        dead worker took down (the pool is then broken and every unfinished chain is in that list)."""
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        n = min(self.jobs, len(chains))
        self._pool = pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_pool_init,
                                                initargs=(q,))
        lost: list[tuple[ChainTask, set[str], str]] = []
        self._round_results = 0
        try:
            with _single_threaded_children():  # the workers are spawned while the chains are submitted
                futures = {pool.submit(_pool_chain, c): c for c in chains}
            by_id = {c.chain_id: c for c in chains}
            reported: dict[int, set[str]] = {c.chain_id: set() for c in chains}
            open_ids = set(by_id)
            while open_ids:
                try:
                    msgs = [q.get(timeout=0.5)]
                    while True:  # and everything else already waiting
                        try:
                            msgs.append(q.get_nowait())
                        except queue_mod.Empty:
                            break
                except queue_mod.Empty:
                    # the queue stayed empty: chains whose task ended with an error (a dead worker) are lost
                    for fut, c in futures.items():
                        if c.chain_id in open_ids and fut.done() and fut.exception() is not None:
                            open_ids.discard(c.chain_id)
                            exc = fut.exception()
                            lost.append((c, reported[c.chain_id], f"worker process lost ({type(exc).__name__})"))
                    continue
                batch: list[PointResult] = []
                for kind, cid, payload in msgs:
                    if kind == "done":
                        open_ids.discard(cid)
                        if len(reported[cid]) < len(by_id[cid].points):  # the worker ended the chain early
                            batch += _lost(by_id[cid], reported[cid], "the worker stopped before this point")
                    elif cid in open_ids:
                        reported[cid].add(payload.key)
                        self._round_results += 1
                        if payload.ok:
                            self._last_good[cid] = payload.solution
                        batch.append(payload)
                if batch:
                    yield batch
        finally:
            self._pool = None
            _stop_pool(pool)
            q.close()
        return lost


#: Thread counts of the numeric libraries in pool workers (unless already set in the environment): casadi's
#: bundled OpenBLAS/OpenMP otherwise runs every IPOPT solve on all cores without being faster, so parallel
#: workers fight over the cores (measured: 2 threads per solve, same wall time as 1). Dask's nanny does the same.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _single_threaded_children():
    """Set THREAD_ENV to 1 (where unset) while worker processes are started; restore afterwards."""
    added = [k for k in THREAD_ENV if k not in os.environ]
    for k in added:
        os.environ[k] = "1"
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _stop_pool(pool) -> None:
    """Shut a process pool down without waiting for running chains (used on errors and Ctrl-C too)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)


def dask_available() -> bool:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


class DaskExecutor:
    """Points as dask tasks, chained by dependencies; on `scheduler` (address) or a LocalCluster of `jobs`
    single-threaded worker processes. The toolkit must be importable on the scheduler and the workers (it
    unpickles the tasks): pip install the same version there too."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, jobs: int = 1) -> None:
        if not dask_available():
            raise ExecutorUnavailable(DASK_MISSING)
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ExecutorUnavailable(f"--jobs: {jobs!r} (allowed: an integer >= 1)")
        self.scheduler = scheduler
        self.jobs = jobs
        self.workers = jobs
        self.client = None
        self._cluster = None

    def __enter__(self) -> "DaskExecutor":
        import logging

        from distributed import Client, LocalCluster

        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="30s")
            except Exception as e:  # noqa: BLE001 - refused, timed out, a malformed address: all bad input
                why = " ".join(str(e).split()) or type(e).__name__
                raise ExecutorUnavailable(f"--scheduler: cannot connect to {self.scheduler} ({why}) (allowed: the "
                                          "address of a running dask scheduler, e.g. tcp://HOST:8786)") from None
            try:
                self.workers = max(1, sum(self.client.nthreads().values()))
            except Exception:  # noqa: BLE001 - only used to balance chains
                self.workers = max(1, self.jobs)
        else:
            self._cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.WARNING)
            self.client = Client(self._cluster)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        client, self.client = self.client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def run(self, chains: Iterable[ChainTask]) -> Iterator[PointResult]:
        """Results one by one, as they finish."""
        for batch in self.run_batches(chains):
            yield from batch

    def run_batches(self, chains: Iterable[ChainTask]) -> Iterator[list[PointResult]]:
        """Results as they finish, grouped: every task finished at that moment."""
        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("DaskExecutor.run outside 'with'")
        futures = {}
        token = uuid.uuid4().hex[:12]
        for c in chains:
            prev: Any = c.guess
            for p in c.points:
                fut = self.client.submit(_dask_point, p, prev, c.warm_start, pure=False,
                                         key=f"pedaling-{token}-{c.chain_id}-{len(futures)}")
                futures[fut] = p.key
                prev = fut
        for done in as_completed(list(futures)).batches():
            batch = []
            for fut in done:
                key = futures.pop(fut)
                if fut.status == "finished":
                    r = fut.result()
                    batch.append(PointResult(r.key, r.stats, r.solution, r.start, r.worker, r.elapsed_s))
                else:
                    try:
                        exc = fut.exception()
                    except Exception as e:  # cancelled
                        exc = e
                    status = "Task_Error" if fut.status == "error" else "Worker_Lost"
                    batch.append(PointResult(key, _failure_stats(status, f"dask task {fut.status}: "
                                                                 f"{type(exc).__name__}: {exc}")))
                fut.release()
            yield batch


def make_executor(name: str = "local", jobs: int = 1, scheduler: str | None = None):
    """An executor by name ('local' or 'dask'); raises ExecutorUnavailable for bad input."""
    if name == "local":
        if scheduler:
            raise ExecutorUnavailable("--scheduler: only used with --executor dask (allowed: omit it, or "
                                      "--executor dask)")
        return LocalExecutor(jobs)
    if name == "dask":
        return DaskExecutor(scheduler, jobs)
    raise ExecutorUnavailable(f"--executor: {name!r} (allowed: {', '.join(EXECUTORS)})")
