"""Run an experiment's sweep: solve every point, store each one as soon as it is solved, summarize.

`python -m toolkit run CONFIG.toml [--out DIR] [--jobs N] [--executor local|dask] [--scheduler ADDR] [--resume]`
calls `run_main`, which validates the config (exit 2 on bad input) and calls `run_experiment`.

What a run does (see docs/sweeps.md for the user's view):

0. Before anything on disk changes (output directory, lock, backup, result file), the executor is started or
   connected: a dask scheduler that cannot be reached stops the run (exit 2) with everything as it was.
1. Result file OUTPUT_DIR/NAME.h5 (`--out DIR`: DIR/NAME.h5). Only one run may write it at a time: an
   advisory lock on .NAME.h5.lock beside it (released by the kernel even after kill -9) makes a second run
   stop with exit code 2 instead of racing the first.
2. An existing result file is never lost silently. Without `--resume` the run starts afresh and the old file
   is first moved aside (atomically, os.replace) to NAME.h5.bak, or NAME.h5.bak.1, .2, ... when that exists;
   the message says where. With `--resume` every point already stored as a result is skipped (points recorded
   only as failures are tried again); a stored point whose problem (condition, power, mesh, solver settings,
   ...) differs from what the config now asks for stops the run with exit code 2, since mixing the two
   silently would corrupt the comparison.
3. Points are grouped into warm-start chains: consecutive points of `Experiment.points()` (intensity
   innermost, ascending) with the same rider, fit, condition and cadence. A chain is solved in order in one
   worker, each point warm-started from the last successful solution before it (a failed warm start is
   retried once from the cold guess); on --resume a chain continues from the stored point before it. When
   there are fewer chains than workers, the longest chains are cut in halves so every worker has work
   (the second half starts cold), and further while that evens out the workers' shares. The executors are in toolkit.study.executors.
4. Every finished point is written at once by this (the parent) process, through the writer shared with
   `reproduce` (toolkit.study.store): successful solves with `write_solution(s)`, failed ones with `write_failure` (never as results) and a loud line on stderr
   (`FAILED KEY: status=STATUS: message`). Each write is atomic, so killing the run (even kill -9) loses only
   the points being solved at that moment (and, with parallel workers, those that finished while the
   previous write ran), and `--resume` carries on from there. A write appends in place through a journal
   (toolkit.io.journal), tens of ms per write whatever the number of stored points; points that finish
   while a write runs are stored together in the next one (executors' run_batches). A write that fails (disk
   full, I/O error) stops the run with exit code 3 and a one-line message; the file keeps every point stored
   before it, and `--resume` continues once the cause is fixed.
5. Afterwards: a summary table of every point in the file, NAME_summary.md and NAME_summary.csv next to it,
   with failures and their status; the experiment's figures in NAME_figures/ (when [output] figures = true)
   and .sto tables in NAME_sto/ (when [output] sto = true). A failure while drawing or exporting is reported
   and never touches the stored results.
"""
from __future__ import annotations

import dataclasses
import math
import os
import shlex
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..io import hdf5
from ..io.paths import directory_problem, shown
from ..ocp.problem import ProblemSpec
from .chains import build_chains, chain_key  # noqa: F401 (public here too)
from .config import ConfigError, Experiment, Point, load_experiment
from .executors import ExecutorUnavailable, PointResult, make_executor
from .store import begin_result, store_batch
from .summary import SUMMARY_COLUMNS, summary_rows, write_summary  # noqa: F401 (public here too)

__all__ = ["RunReport", "RunError", "run_experiment", "run_main", "resume_command", "build_chains", "chain_key",
           "write_summary", "summary_rows", "SUMMARY_COLUMNS"]

EXIT_OK, EXIT_SOLVE_FAILED, EXIT_BAD_INPUT, EXIT_IO_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class RunError(ValueError):
    """A run that cannot start (bad input, exit code 2): `.problems`, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class RunReport:
    """What a run did. solved/failed/skipped: point keys of this run (failed: key -> message); skipped: points
    already stored (--resume). wall_time_s: the solving phase (pool start-up, solver builds, solves, writes);
    points_per_min: points finished (solved or failed) per minute of it. total_time_s also counts the
    summary, figures and .sto export."""

    result_file: Path
    solved: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    points_per_min: float = 0.0
    warm_started: list[str] = field(default_factory=list)
    cold_retried: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    summary_files: list[Path] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    backup: Path | None = None
    executor: str = "local"
    jobs: int = 1
    chains: int = 0
    total_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def line(self) -> str:
        return (f"{len(self.solved)} solved, {len(self.failed)} failed, {len(self.skipped)} already stored; "
                f"{self.wall_time_s:.1f} s ({self.points_per_min:.1f} points/min, {self.executor} executor, "
                f"{self.jobs} job{'s' if self.jobs != 1 else ''}, {self.chains} chain{'s' if self.chains != 1 else ''})")


# ----------------------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------------------

@contextmanager
def _writer_lock(result: Path):
    """Exclusive advisory lock of the result file for this run (no-op where fcntl is unavailable)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    lock_path = result.parent / f".{result.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError([f"{result}: -: another run is writing this file (lock {lock_path} is held); wait for "
                            "it to finish, or stop it (allowed: one run per result file)"]) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_stale_temporaries(result: Path) -> None:
    """Temporary files left by a writer that was killed mid-write (hdf5's atomic writes: .NAME.h5.*.tmp)."""
    for p in result.parent.glob(f".{result.name}.*.tmp"):
        try:
            p.unlink()
        except OSError:
            pass


def _backup(result: Path) -> Path:
    """Move an existing result file aside to NAME.h5.bak (or .bak.N), atomically; return the new path."""
    hdf5.recover(result)  # a journal left by a killed writer belongs to this file: apply it before the move
    target = result.with_name(result.name + ".bak")
    n = 1
    while target.exists():
        target = result.with_name(f"{result.name}.bak.{n}")
        n += 1
    os.replace(result, target)
    return target


def _attr(a, name: str, default: str = "") -> str:
    v = a.get(name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _stored_specs(path: Path) -> dict[str, ProblemSpec | None]:
    """key -> stored ProblemSpec of every stored result (attributes only: no arrays are read)."""
    out: dict[str, ProblemSpec | None] = {}
    try:
        with hdf5.open_result(path) as f:  # ResultFileError for a missing, unreadable or foreign file
            g = hdf5._members(f, "points")  # ResultFileError when /points is not a group
            for n in (g if g is not None else []):
                a = g[n].attrs
                try:
                    spec = hdf5.spec_from_json(_attr(a, "spec_json"))
                except (ValueError, TypeError, KeyError):
                    spec = None
                out[_attr(a, "key")] = spec
    except OSError as e:
        raise hdf5.ResultFileError(f"cannot be read as HDF5 ({str(e).splitlines()[0]})") from None
    return out


def _flat(obj: Any, prefix: str = "") -> dict[str, Any]:
    if dataclasses.is_dataclass(obj):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            out.update(_flat(getattr(obj, f.name), f"{prefix}{f.name}."))
        return out
    return {prefix[:-1]: obj}


def _spec_differences(stored: ProblemSpec | None, wanted: ProblemSpec) -> list[str]:
    if stored is None:
        return ["unreadable stored problem"]
    if stored == wanted:
        return []
    a, b = _flat(stored), _flat(wanted)
    diff = []
    for k in b:
        x, y = a.get(k), b[k]
        same = x == y or (isinstance(x, float) and isinstance(y, float) and math.isclose(x, y, rel_tol=1e-12))
        if not same:
            diff.append(f"{k} {x!r} stored, {y!r} now")
    return diff


def _figure_labels(labels: dict[str, Any]) -> dict[str, Any]:
    """The label fields that name a line in the comparison figures (the rest, e.g. intensity_value, would make
    every point a line of its own)."""
    out = {"condition": labels.get("condition_label", labels.get("condition"))}
    for k in ("rider", "fit", "cadence_rpm", "intensity", "power_W"):
        if k in labels:
            out[k] = labels[k]
    return out


# ----------------------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------------------

class _Progress:
    """A tqdm bar on a terminal; one line per point otherwise (logs of batch jobs); nothing if disabled."""

    def __init__(self, total: int, name: str, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.bar = None
        if enabled and total and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=name, unit="pt", file=sys.stderr, dynamic_ncols=True)

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def point(self, r: PointResult) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.enabled:
            st = r.stats
            self.write(f"[{self.done}/{self.total}] {r.key}: {'OK' if r.ok else 'FAILED'} {st.iterations} it "
                       f"{st.solve_time_s:.2f} s ({r.start} start)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_experiment(experiment: Experiment, out_dir=None, jobs: int = 1, resume: bool = False,
                   executor: Any = "local", scheduler: str | None = None, progress: bool = True,
                   warm_start: bool = True, figures: bool | None = None) -> RunReport:
    """Solve every point of `experiment` (see the module docstring) and return a RunReport.

    executor: 'local', 'dask', or an executor object (toolkit.study.executors). warm_start=False solves every
    point from the cold guess (for comparisons). figures: override [output] figures.
    Raises RunError for a run that cannot start (locked file, --resume of an unusable or mismatching file,
    bad jobs/executor); failed solves never raise.
    """
    t_start = time.perf_counter()
    out = Path(out_dir) if out_dir is not None else experiment.output.dir
    result = (out / f"{experiment.name}.h5").absolute()
    if isinstance(executor, str):
        try:
            ex = make_executor(executor, jobs, scheduler)
        except ExecutorUnavailable as e:
            raise RunError([str(e)]) from None
    else:
        ex = executor
    points = experiment.points()
    report = RunReport(result, executor=getattr(ex, "name", type(ex).__name__),
                       jobs=int(getattr(ex, "jobs", jobs)))
    entered = False

    def enter() -> None:  # start/connect the executor (a dask scheduler that cannot be reached fails here)
        nonlocal entered
        if entered:
            return
        try:
            ex.__enter__()
        except ExecutorUnavailable as e:
            raise RunError([str(e)]) from None
        entered = True

    def leave() -> None:
        nonlocal entered
        if entered:
            entered = False
            ex.__exit__(None, None, None)

    try:
        # Nothing on disk changes before the executor is known to work: connect first when there is work.
        if _has_work(result, points, resume):
            enter()
        try:
            result.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunError([f"{result.parent}: -: cannot create the output directory ({e.strerror or e})"]) from None
        with _writer_lock(result):
            t_solve = _run_locked(experiment, result, points, resume, ex, enter, leave, report, progress,
                                  warm_start)
            leave()
            report.wall_time_s = time.perf_counter() - t_solve
            n_done = len(report.solved) + len(report.failed)
            report.points_per_min = (60.0 * n_done / report.wall_time_s
                                     if report.wall_time_s > 0 and n_done else 0.0)
            _finish(result, experiment, report, figures)
    finally:
        leave()
    report.total_time_s = time.perf_counter() - t_start
    return report


def _has_work(result: Path, points: Sequence[Point], resume: bool) -> bool:
    """Whether any point will be solved (read-only look at the result file; errors: assume there is)."""
    if not points:
        return False
    if not resume or not result.exists():
        return True
    try:
        stored = set(hdf5.list_points(result))
    except (ValueError, OSError):
        return True
    return any(p.key not in stored for p in points)


def _run_locked(experiment: Experiment, result: Path, points: Sequence[Point], resume: bool, ex, enter, leave,
                report: RunReport, progress: bool, warm_start: bool) -> float:
    """The part of a run that holds the writer lock: resume checks or backup, then solve and store."""
    _remove_stale_temporaries(result)
    skip: set[str] = set()
    if result.exists():
        if resume:
            try:
                stored = _stored_specs(result)
            except hdf5.ResultFileError as e:
                raise RunError([f"{result}: -: cannot resume: {e} (allowed: a result file of this "
                                "experiment, or run without --resume to start afresh)"]) from None
            bad: dict[str, list[str]] = {}
            for p in points:
                if p.key in stored:
                    d = _spec_differences(stored[p.key], p.spec)
                    if d:
                        bad.setdefault("; ".join(d[:4]), []).append(p.key)
            if bad:
                raise RunError([
                    f"{result}: {keys[0]}: stored with other problem settings ({diff})"
                    + (f" (and {len(keys) - 1} more point(s) alike)" if len(keys) > 1 else "")
                    + " (allowed: the settings of the stored points, or run without --resume to start afresh;"
                    " the old file is then kept as a .bak)" for diff, keys in bad.items()])
            skip = {p.key for p in points if p.key in stored}
            extra = [k for k in stored if k not in {p.key for p in points}]
            if extra:
                print(f"{result}: note: {len(extra)} stored point(s) are not in this experiment's sweep "
                      "(kept)", file=sys.stderr)
        else:
            report.backup = _backup(result)
            print(f"{result}: starting afresh; the existing results were moved to {report.backup} "
                  "(use --resume to continue a run instead)", file=sys.stderr)
    report.skipped = [p.key for p in points if p.key in skip]
    by_key = {p.key: p for p in points}
    # The resolved config goes into the result file before any point (provenance; kept by every write).
    begin_result(result, experiment)

    def guess_for(key: str):
        try:
            return hdf5.read_solution(result, key)
        except (KeyError, ValueError, OSError):
            return None

    workers = int(getattr(ex, "workers", getattr(ex, "jobs", 1)))
    todo = [p for p in points if p.key not in skip]
    bar = _Progress(len(todo), experiment.name, progress)
    t_solve = time.perf_counter()
    try:
        if todo:
            enter()  # already done, unless the file changed since _has_work looked
            try:
                workers = int(getattr(ex, "workers", workers))
                chains = build_chains(points, skip, warm_start, min_chains=workers, guess_for=guess_for)
                if workers > 1:  # longest first, so no worker is left with a long chain at the end
                    chains.sort(key=lambda c: -len(c.points))
                report.chains = len(chains)
                batches = (ex.run_batches(chains) if hasattr(ex, "run_batches")
                           else ([r] for r in ex.run(chains)))
                for batch in batches:
                    _store(result, batch, by_key, report, bar)
            finally:
                leave()
    finally:
        bar.close()
    return t_solve


def _store(result: Path, batch: list[PointResult], by_key: dict[str, Point], report: RunReport,
           bar: _Progress) -> None:
    """Write finished points into the result file now (`store.store_batch`: the successful ones together in one
    atomic append, then each failure record), then report them."""
    store_batch(result, batch, by_key)
    for r in batch:
        p = by_key[r.key]
        if r.ok:
            report.solved.append(p.key)
            if r.start == "warm":
                report.warm_started.append(p.key)
        else:
            report.failed[p.key] = r.message
            bar.write(f"FAILED {p.key}: status={r.stats.status}: {' '.join(r.message.split())}")
        if r.start == "cold-retry":
            report.cold_retried.append(p.key)
        report.statuses[p.key] = r.stats.status
        bar.point(r)


def _warn(text: str) -> None:
    print(f"warning: {text}", file=sys.stderr)


def _finish(result: Path, experiment: Experiment, report: RunReport, figures: bool | None) -> None:
    """Summary table, figures and .sto export; none of them can harm the stored results."""
    if not result.exists():
        return
    try:
        stored = hdf5.read_points(result)
        failures = hdf5.read_failures(result)
    except (ValueError, OSError, KeyError) as e:
        _warn(f"{result}: could not read the results back for the summary ({e})")
        return
    try:
        report.summary_files = write_summary(result, experiment, stored, failures)
    except Exception as e:  # noqa: BLE001 - never lose a finished run to a table
        _warn(f"could not write the summary table next to {result} ({type(e).__name__}: {e})")
    want_figures = experiment.output.figures if figures is None else figures
    if want_figures and stored:
        try:
            from ..plots.report import save_experiment_figures

            sols = {k: sp.solution for k, sp in stored.items()}
            labels = {k: _figure_labels(sp.labels or {"condition": sp.solution.spec.condition})
                      for k, sp in stored.items()}
            report.figures = list(save_experiment_figures(sols, labels, result.parent / f"{result.stem}_figures"))
        except Exception as e:  # noqa: BLE001
            _warn(f"figures were not drawn ({type(e).__name__}: {e}); the results are stored in {result}, "
                  f"draw them later with: python -m toolkit plot {result}")
        finally:
            try:
                import matplotlib.pyplot as plt

                plt.close("all")
            except Exception:  # noqa: BLE001
                pass
    if experiment.output.sto and stored:
        try:
            from ..io.sto import export_many

            export_many(((k, sp.solution) for k, sp in stored.items()), result.parent / f"{result.stem}_sto")
        except Exception as e:  # noqa: BLE001
            _warn(f".sto export failed ({type(e).__name__}: {e}); export later with: python -m toolkit export "
                  f"{result} --sto DIR")


def resume_command(config, out=None, jobs: int = 1, executor: str = "local", scheduler: str | None = None,
                   overrides: Iterable[str] = ()) -> str:
    """The command line that continues this run (the same arguments plus --resume), quoted for a POSIX shell."""
    argv = ["run", str(config)]
    if out is not None:
        argv += ["--out", str(out)]
    if jobs != 1:
        argv += ["--jobs", str(jobs)]
    if executor != "local":
        argv += ["--executor", executor]
    if scheduler:
        argv += ["--scheduler", scheduler]
    for o in overrides or ():
        argv += ["--set", o]
    return "python -m toolkit " + shlex.join(argv + ["--resume"])


def run_main(config, out=None, jobs: int = 1, executor: str = "local", scheduler: str | None = None,
             resume: bool = False, overrides: Iterable[str] = ()) -> int:
    """`python -m toolkit run`: 0 every point solved, 1 some failed (the others are stored), 2 bad input,
    3 the results could not be written (disk full, I/O error: what was stored is intact), 130 interrupted
    (what was finished is stored; rerun with --resume)."""
    problems: list[str] = []
    ex = None
    try:
        ex = make_executor(executor, jobs, scheduler)
    except ExecutorUnavailable as e:
        problems.append(str(e))
    why = directory_problem(out) if out is not None else None  # NUL byte, too long, a file, not writable
    if why:
        problems.append(f"--out: {shown(out)}: {why} (allowed: a writable directory, created if missing)")
    try:
        exp = load_experiment(config, overrides, check_fit=True)
    except ConfigError as e:
        for line in list(e.warnings) + list(e.problems) + problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in exp.warnings:
        print(line, file=sys.stderr)
    if problems:
        for line in problems:
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        report = run_experiment(exp, out_dir=out, jobs=jobs, resume=resume, executor=ex, scheduler=scheduler)
    except (RunError, ExecutorUnavailable) as e:
        for line in getattr(e, "problems", [str(e)]):
            print(line, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        out_dir = Path(out) if out is not None else exp.output.dir
        print(f"\ninterrupted: every point finished so far is stored in {out_dir / (exp.name + '.h5')}; "
              f"continue with: {resume_command(config, out, jobs, executor, scheduler, overrides)}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:  # writing the results failed (disk full, I/O error): the stored points are intact
        out_dir = Path(out) if out is not None else exp.output.dir
        target = shown(out_dir / (exp.name + '.h5'))
        print(f"{target}: -: cannot write the results: {e.strerror or e} (every point stored before is intact; "
              f"free space or fix the cause, then continue with: "
              f"{resume_command(config, out, jobs, executor, scheduler, overrides)})", file=sys.stderr)
        return EXIT_IO_ERROR
    print(f"{exp.name}: {report.line()}")
    print(f"results: {report.result_file}")
    if report.summary_files:
        print("summary: " + ", ".join(str(p) for p in report.summary_files))
    if report.figures:
        print(f"figures: {len(report.figures)} in {report.figures[0].parent}")
    if report.failed:
        keys = list(report.failed)
        print(f"{len(keys)} point(s) failed (recorded under /failures, not stored as results): "
              + ", ".join(keys[:5]) + (f", ... ({len(keys) - 5} more)" if len(keys) > 5 else ""), file=sys.stderr)
        return EXIT_SOLVE_FAILED
    return EXIT_OK
