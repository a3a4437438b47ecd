"""`show`, `plot` and `export`: result files in, tables, figures and OpenSim files out (the command-line handlers;
toolkit.io only reads and writes the files).

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

from ..io.hdf5 import ResultFileError, file_info, read_failures, read_points
from ..io.paths import directory_problem, shown

from .codes import EXIT_BAD_INPUT, EXIT_IO_ERROR, EXIT_OK


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
    from ..io.provenance import Provenance

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
def model_opensim_main(model, setup, osim_file=None, moco_dir=None, condition: str = "free", power_W: float = 200.0,
                       cadence_rpm: float = 90.0, ankle_deg: float | None = None, nodes: int = 20) -> int:
    """`model --osim FILE` writes the .osim of a rider and fit; `model --moco DIR` writes DIR/model.osim, the
    Moco script DIR/moco_pedaling.py for the given problem and the toolkit's initial guess as its guess."""
    from ..model.osim_model import osim_model_spec
    from ..ocp.problem import ProblemSpec, SolverSpec
    from ..ocp.solve import PedalingSolver
    from ..io.moco import moco_spec_from_problem, write_moco_script
    from ..io.osim import export_osim_trajectory, write_osim

    spec = None
    if moco_dir is not None:
        why = _out_dir_problem("--moco", moco_dir)
        if why:
            print(why, file=sys.stderr)
            return EXIT_BAD_INPUT
        try:
            kw = {} if ankle_deg is None else {"fixed_ankle_deg": ankle_deg}
            spec = ProblemSpec(condition=condition, power_W=power_W, cadence_rpm=cadence_rpm,
                               solver=SolverSpec(nodes=nodes), **kw)
        except ValueError as e:
            print(f"-: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if osim_file is not None:
        why = _out_dir_problem("--osim", Path(osim_file).parent or Path("."))
        if why:
            print(why, file=sys.stderr)
            return EXIT_BAD_INPUT
    written = []
    osim = osim_model_spec(setup, activation_floor=spec.activation_floor if spec else 0.01)
    if osim_file is not None:
        written.append(write_osim(osim, osim_file))
    if spec is not None:
        d = Path(moco_dir)
        written.append(write_osim(osim, d / "model.osim"))
        guess = PedalingSolver(model).initial_guess(setup, spec)
        written += export_osim_trajectory(guess, d, "guess", osim.crank_load_optimal_force, allow_unsolved=True)
        ms = moco_spec_from_problem(spec, "model.osim", guess_states="guess_osim_states.sto",
                                    guess_controls="guess_osim_controls.sto")
        written.append(write_moco_script(ms, d / "moco_pedaling.py", command="model --moco"))
    for p in written:
        print(f"wrote {p}")
    return EXIT_OK


def export_opensim(sol, stem: str, osim_dir=None, moco_dir=None, model=None) -> tuple[list[Path], list[str]]:
    """Write one solution's .osim model (its rider and fit) and its states/controls tables into osim_dir, and/or
    the model, the tables (as the initial guess) and a Moco script <stem>_moco.py into moco_dir. Returns (paths
    written, notes on what was skipped)."""
    from ..model.leg import LegModel
    from ..model.osim_model import osim_model_spec
    from ..ocp.solve import setup_from_description
    from ..io.moco import moco_spec_from_problem, write_moco_script
    from ..io.osim import export_osim_trajectory, write_osim

    model = model or LegModel()
    setup = setup_from_description(model, sol.setup)
    spec = osim_model_spec(setup, activation_floor=sol.spec.activation_floor)
    written: list[Path] = []
    notes: list[str] = []
    for d in [x for x in (osim_dir, moco_dir) if x is not None]:
        written.append(write_osim(spec, Path(d) / f"{stem}.osim"))
        written += export_osim_trajectory(sol, d, stem, spec.crank_load_optimal_force)
    if moco_dir is not None:
        try:
            ms = moco_spec_from_problem(sol.spec, f"{stem}.osim", mesh_intervals=sol.nodes,
                                        guess_states=f"{stem}_osim_states.sto",
                                        guess_controls=f"{stem}_osim_controls.sto")
        except ValueError as e:
            notes.append(f"{stem}: no Moco script ({e})")
        else:
            written.append(write_moco_script(ms, Path(moco_dir) / f"{stem}_moco.py", command="export --moco"))
    return written, notes


@_guarded
def export_main(path, sto_dir=None, osim_dir=None, moco_dir=None) -> int:
    """Export every stored point: OpenSim .sto tables into sto_dir, the .osim model with its state and control
    tables into osim_dir, and a Moco script (with model and guess) into moco_dir (one set of files per point)."""
    from ..io.sto import export_many, safe_stem

    try:
        _, points, _ = _load(path)
    except ResultFileError as e:
        return _bad(path, str(e))
    for flag, d in (("--sto", sto_dir), ("--osim", osim_dir), ("--moco", moco_dir)):
        why = _out_dir_problem(flag, d) if d is not None else None
        if why:
            print(why, file=sys.stderr)
            return EXIT_BAD_INPUT
    if not points:
        print(f"{path}: no successful points to export")
        return EXIT_OK
    if sto_dir is not None:
        written = export_many(((k, p.solution) for k, p in points.items()), sto_dir)
        print(f"{path}: wrote {len(written)} .sto file(s) for {len(points)} point(s) to {sto_dir}")
    if osim_dir is not None or moco_dir is not None:
        from ..model.leg import LegModel

        model, used, n, notes = LegModel(), set(), 0, []
        for k, p in points.items():
            stem = base = safe_stem(k)
            i = 2
            while stem in used:
                stem, i = f"{base}_{i}", i + 1
            used.add(stem)
            try:
                w, why = export_opensim(p.solution, stem, osim_dir, moco_dir, model)
            except ValueError as e:
                return _bad(path, f"point {k!r}: {e}")
            n += len(w)
            notes += why
        dirs = " and ".join(str(d) for d in (osim_dir, moco_dir) if d is not None)
        print(f"{path}: wrote {n} OpenSim file(s) (.osim, states/controls .sto"
              f"{', Moco scripts' if moco_dir is not None else ''}) for {len(points)} point(s) to {dirs}")
        for note in notes:
            print(f"  {note}")
    return EXIT_OK


def _show(args) -> int:
    return show_main(args.result)


def _plot(args) -> int:
    return plot_main(args.result, args.out)


def _export(args) -> int:
    if args.sto is None and args.osim is None and args.moco is None:
        print("-: export: give at least one of --sto DIR, --osim DIR, --moco DIR", file=sys.stderr)
        return EXIT_BAD_INPUT
    return export_main(args.result, args.sto, args.osim, args.moco)
