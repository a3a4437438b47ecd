"""Entry functions of `python -m toolkit show | plot | export` (wired in toolkit.cli).

Each returns an exit code: 0 success, 2 bad input (missing, unreadable, foreign or damaged result file; an
output directory that cannot be created or written), with one line `FILE: -: what is wrong` on stderr, 3 an
I/O error while writing (disk full). Output cut short by a closed pipe (`show ... | head`) ends quietly.
"""
from __future__ import annotations

import functools
import math
import os
import sys
from pathlib import Path
from typing import Any

from .hdf5 import ResultFileError, file_info, read_failures, read_points
from .paths import directory_problem, shown

EXIT_OK, EXIT_BAD_INPUT, EXIT_IO_ERROR = 0, 2, 3


def _bad(path, message: str) -> int:
    print(f"{shown(path)}: -: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _guarded(fn):
    """A closed stdout ends the command quietly; an OSError while writing is one line and exit code 3."""
    @functools.wraps(fn)
    def run(*args, **kwargs) -> int:
        try:
            code = fn(*args, **kwargs)
            sys.stdout.flush()  # a pipe closed early shows up here, not at exit
            return code
        except BrokenPipeError:  # the reader went away (show ... | head): not an error of ours
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):
                pass
            return EXIT_OK
        except OSError as e:
            print(f"{shown(e.filename or args[0])}: -: cannot write: {e.strerror or e}", file=sys.stderr)
            return EXIT_IO_ERROR
    return run


def _out_dir_problem(flag: str, path) -> str | None:
    why = directory_problem(path)
    return f"{flag}: {shown(path)}: {why} (allowed: a writable directory, created if missing)" if why else None


def _load(path):
    """(info, points, failures) or raise ResultFileError."""
    info = file_info(path)
    try:
        points = read_points(path)
        failures = read_failures(path)
    except (KeyError, TypeError, ValueError, OSError, AttributeError, RecursionError) as e:
        if isinstance(e, ResultFileError):
            raise
        raise ResultFileError(f"damaged point data ({type(e).__name__}: {e})") from None
    return info, points, failures


def _provenance(info: dict):
    """The last writer's Provenance record (files written before it existed have none)."""
    from .provenance import Provenance

    try:
        return Provenance.from_json(info["provenance_json"])
    except (KeyError, TypeError, ValueError):
        return None


def _fmt(x: Any, spec: str) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "-"
    return format(x, spec) if math.isfinite(x) else str(x)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


@_guarded
def show_main(path) -> int:
    """Print every stored point (key, condition, work rate, cadence, status, joint shares, energy-balance
    residual, solver statistics, labels) and the recorded failures."""
    try:
        info, points, failures = _load(path)
    except ResultFileError as e:
        return _bad(path, str(e))
    commit = info.get("git_commit") or "unknown"
    print(f"{path}: {len(points)} point(s), {len(failures)} failure(s); results schema "
          f"v{info.get('schema_version')}, written by toolkit {info.get('toolkit_version')} (git {commit[:12]}), "
          f"modified {info.get('modified_utc')}")
    prov = _provenance(info)
    if prov is not None:
        print(f"last writer: {prov.line()}")
    if points:
        header = ["key", "condition", "power_W", "cadence_rpm", "nodes", "status", "hip_%", "knee_%", "ankle_%",
                  "energy_resid", "mean_crank_W", "iter", "solve_s", "max_viol", "labels"]
        rows = []
        for key, p in points.items():
            s, st, sm = p.solution.spec, p.solution.stats, p.summary
            sh = sm.get("joint_work_share", {})
            rows.append([key, s.condition, _fmt(s.power_W, "g"), _fmt(s.cadence_rpm, "g"), str(p.solution.nodes),
                         st.status, _fmt(100 * sh.get("hip", math.nan), ".1f"),
                         _fmt(100 * sh.get("knee", math.nan), ".1f"), _fmt(100 * sh.get("ankle", math.nan), ".1f"),
                         _fmt(sm.get("energy_balance_residual"), ".2e"), _fmt(sm.get("mean_crank_power_W"), ".2f"),
                         str(st.iterations), _fmt(st.solve_time_s, ".2f"), _fmt(st.max_violation, ".1e"),
                         ", ".join(f"{k}={v}" for k, v in p.labels.items())])
        print()
        print(_table(header, rows))
    if failures:
        print()
        print(f"Failed solves ({len(failures)}; not stored as results):")
        for key, f in failures.items():
            print(f"  {key}: {f.spec.condition} {f.spec.power_W:g} W at {f.spec.cadence_rpm:g} rpm: "
                  f"{f.stats.summary()}")
    return EXIT_OK


def default_figure_dir(path) -> Path:
    """Where `plot` writes without --out: <result dir>/<result stem>_figures."""
    p = Path(path)
    return p.parent / f"{p.stem}_figures"


@_guarded
def plot_main(path, outdir=None, point_figures: bool = True) -> int:
    """Draw the experiment's comparison figures (and, with point_figures, every point's own figures in
    <out>/points) as PNG files."""
    from ..io.sto import safe_stem
    from ..plots.report import save_experiment_figures, save_point_figures

    try:
        _, points, failures = _load(path)
    except ResultFileError as e:
        return _bad(path, str(e))
    out = Path(outdir) if outdir else default_figure_dir(path)
    why = _out_dir_problem("--out", out)
    if why:
        print(why, file=sys.stderr)
        return EXIT_BAD_INPUT
    if not points:
        print(f"{path}: no successful points to plot ({len(failures)} failure(s) recorded)")
        return EXIT_OK
    sols = {k: p.solution for k, p in points.items()}
    labels = {k: (p.labels or None) for k, p in points.items()}
    written = list(save_experiment_figures(sols, labels, out))
    for k, sol in (sols.items() if point_figures else ()):
        written += save_point_figures(sol, out / "points", safe_stem(k))
    print(f"{path}: wrote {len(written)} figure(s) to {out}")
    return EXIT_OK


@_guarded
def export_main(path, sto_dir) -> int:
    """Export every stored point as OpenSim .sto tables into sto_dir (one set of files per point)."""
    from .sto import export_many

    try:
        _, points, _ = _load(path)
    except ResultFileError as e:
        return _bad(path, str(e))
    why = _out_dir_problem("--sto", sto_dir)
    if why:
        print(why, file=sys.stderr)
        return EXIT_BAD_INPUT
    if not points:
        print(f"{path}: no successful points to export")
        return EXIT_OK
    written = export_many(((k, p.solution) for k, p in points.items()), sto_dir)
    print(f"{path}: wrote {len(written)} .sto file(s) for {len(points)} point(s) to {sto_dir}")
    return EXIT_OK
