"""Study reproductions: `python -m toolkit reproduce [STUDY|FOLDER ... | --all] [--out DIR] [--jobs N]`.

Each study is a folder, studies/<name>/ (toolkit.study.registry): a study.toml with the question, claims,
variants, parameters and published values with their agreement criteria, plus the experiment files whose cross
product is exactly what gets solved. Reproducing a study

1. solves every point of every experiment file (`solve_points`: serial, warm-started along intensity chains,
   each point through `run`'s per-point solve; or the study's own solve loop, toolkit.study.solvers) and writes
   one HDF5 file per experiment file, OUT/<study>/<experiment>.h5, with `run`'s writer (toolkit.study.store:
   the resolved config, successful solves as points, failed or infeasible ones in /failures, never as results);
2. reads those files back and computes the model's value of every published quantity (the study's metrics
   module, toolkit.study.metrics.<name>), so the tables are always a function of the stored data only;
3. compares them with the study's [[published]] rows (`toolkit.study.comparison`) and writes
   OUT/<study>/comparison.md, a comparison figure and a few model figures (toolkit.study.render);
4. rewrites OUT/README.md, the index with the headline table (`render_readme`).

The pages use only the HDF5 files (with the experiment config stored in them; today's experiment files only
for older files without one) and OUT/run_info.json (run times), so `tests/regression/test_studies.py` checks
that the committed results/ are exactly what the committed data give.

Hypotheses are labelled as such; sensitivity variants (an alternative model setting, e.g. the classic study's
one-head force set) are labelled SENSITIVITY, reported beside the default rows and tallied apart. Nothing here
adjusts a model parameter toward a published number: every variant was fixed in its experiment file before it
was compared.
"""
from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .base import FailureRec, Record, StudyData, _save
from .config import ConfigError, Experiment, Point, load_experiment
from .executors import PointTask, solve_point
from .registry import StudyDef, Variant, load_study, studies, study
from .readback import load_study_data, study_rows
from .render import RUN_INFO, comparison_figure, render_readme, render_study_markdown, run_info
from .chains import chain_key
from .store import StoredConfigWarning, begin_result, result_of, stored_or_current, store_batch  # noqa: F401

__all__ = [
    "StudyDef", "Variant", "Record", "FailureRec", "StudyData", "solve_points", "reproduce_study", "reproduce_main",
    "load_study_data", "StoredConfigWarning", "study_rows", "render_study_markdown", "render_readme",
]

QUICK_NODES = 16

# ----------------------------------------------------------------------------------------------------------
# Solving
# ----------------------------------------------------------------------------------------------------------

def solve_points(points: Sequence[Point], solver, progress: Callable[[int, int, Point, Any], None] | None = None
                 ) -> dict[str, Any]:
    """Solve points in order, serially, each through `run`'s per-point solve (`executors.solve_point`: cold
    retry after a failed warm start; [solver] multistart > 1: cold starts plus the warm start, the best). Each
    point is warm-started from the previous successful solution of the same chain (`chains.chain_key`: same
    rider, fit, condition and cadence, consecutive intensities), else cold-started.
    Returns key -> Solution (failed or infeasible ones sealed)."""
    out: dict[str, Any] = {}
    chain, guess = None, None
    for i, p in enumerate(points):
        this = chain_key(p)
        if this != chain:
            chain, guess = this, None
        r = solve_point(PointTask(p.key, p.rider, p.fit, p.spec), guess, solver=solver)
        guess = r.last_good
        sol = r.as_solution(p.spec)
        out[p.key] = sol
        if progress is not None:
            progress(i + 1, len(points), p, sol)
    return out


def _progress_printer(study: str) -> Callable:
    def show(i, n, p, sol):
        st = sol.stats
        tag = "ok" if st.success else st.status
        print(f"  [{study} {i}/{n}] {p.key}: {tag} ({st.iterations} it, {st.solve_time_s:.2f} s)",
              file=sys.stderr, flush=True)
    return show


def _load_variant(v: Variant, quick: bool) -> Experiment:
    overrides = [f"solver.nodes={QUICK_NODES}", *v.quick] if quick else []
    return load_experiment(v.path, overrides)


def _write_h5(path: Path, exp: Experiment, points: Sequence[Point], sols: Mapping[str, Any], variant: str) -> None:
    """Write a fresh result file with `run`'s writer (toolkit.study.store: the resolved config as
    `experiment_json`, then the points), built under a temporary name and renamed over the old one."""
    tmp = path.with_name(f".{path.name}.building")
    if tmp.exists():
        tmp.unlink()
    try:
        begin_result(tmp, exp)
        store_batch(tmp, [result_of(p.key, sols[p.key]) for p in points], {p.key: p for p in points},
                    labels={"experiment": exp.name, "variant": variant})
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def reproduce_study(name: str | StudyDef, out: str | os.PathLike = "results", solver=None, quick: bool = False,
                    progress: bool = True, figures: bool = True) -> dict[str, Any]:
    """Solve, store, compare and render one study (a shipped name, a study folder or a StudyDef) into
    OUT/<name>/. Returns run information (runtime_s, points, failures, nodes). quick: solver.nodes=16 and the
    study's reduced point set (tests)."""
    from ..ocp.solve import PedalingSolver

    st = name if isinstance(name, StudyDef) else study(name)
    name = st.name
    t0 = time.perf_counter()
    solver = solver if solver is not None else PedalingSolver()
    sdir = Path(out) / name
    sdir.mkdir(parents=True, exist_ok=True)
    exps = [_load_variant(v, quick) for v in st.variants]
    n_points = n_fail = 0
    nodes = set()
    point_info: dict[str, Any] = {}
    for v, exp in zip(st.variants, exps):
        pts = exp.points()
        show = _progress_printer(name) if progress else None
        if st.solve is not None:
            sols, info = st.solve(pts, solver, show, exp)
            _merge_info(point_info, info)
        else:
            sols = solve_points(pts, solver, show)
            if exp.solver.multistart > 1:
                from .solvers.starts import start_spread

                _merge_info(point_info, {"multistart": {f"{exp.name}/{k}": start_spread(s)
                                                        for k, s in sols.items() if s.success}})
        _write_h5(sdir / f"{exp.name}.h5", exp, pts, sols, v.label)
        n_points += sum(1 for s in sols.values() if s.success)
        n_fail += sum(1 for s in sols.values() if not s.success)
        nodes.add(exp.solver.nodes)
    if point_info:
        extras: dict[str, Any] = {}
        _merge_info(extras, point_info)
        (sdir / "extras.json").write_text(json.dumps(extras, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    info = {"runtime_s": round(time.perf_counter() - t0, 1), "points": n_points, "failures": n_fail,
            "nodes": sorted(nodes), "quick": quick}
    data = load_study_data(st, out)
    rows = study_rows(data)
    (sdir / "comparison.md").write_text(render_study_markdown(st, out, data=data), encoding="utf-8")
    if figures:
        _write_figures(st, data, rows, sdir)
    info["runtime_s"] = round(time.perf_counter() - t0, 1)
    return info


def _merge_info(into: dict, info: Mapping[str, Any]) -> None:
    """Merge a solve hook's info into the extras: dicts are updated, lists extended, other values replaced."""
    for k, v in info.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            into[k].update(v)
        elif isinstance(v, list) and isinstance(into.get(k), list):
            into[k].extend(v)
        else:
            into[k] = v


def _write_figures(st: StudyDef, data: StudyData, rows, sdir: Path) -> list[Path]:
    for old in sdir.glob("*.png"):
        old.unlink()
    paths = [_save(comparison_figure(rows, f"{st.title}: model vs published", st.published), sdir / "comparison.png")]
    if st.figures is not None:
        paths += st.figures(data, rows, sdir)
    return paths


# ----------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------

def _run_one(args) -> tuple[str, dict]:
    folder, out, quick = args
    st = load_study(folder)
    return st.name, reproduce_study(st, out, quick=quick)


def reproduce_main(names: list[str], all_studies: bool = False, out: str = "results", jobs: int = 1,
                   quick: bool = False) -> int:
    """`python -m toolkit reproduce [STUDY|FOLDER ... | --all] [--out DIR] [--jobs N]`: names of shipped studies
    (studies/<name>/) or folders holding a study.toml.

    Exit codes: 0 the studies ran and their files were written (infeasible or failed points are part of the
    results: reported in the tables and stored under /failures); 2 bad input (unknown study, bad experiment file).
    jobs > 1 runs several studies at once in separate processes."""
    shipped = studies()
    allowed = f"{', '.join(shipped)}, or a folder with a study.toml"
    names = list(shipped) if all_studies else list(dict.fromkeys(names))
    if not names:
        print(f"-: studies: none given (allowed: {allowed}, or --all)", file=sys.stderr)
        return 2
    defs: list[StudyDef] = []
    problems: list[str] = []
    for n in names:
        try:
            defs.append(study(n))
        except KeyError:
            problems.append(f"-: studies: unknown study {n!r} (allowed: {allowed})")
        except ConfigError as e:
            problems += e.problems
    for st in defs:
        for v in st.variants:
            try:
                load_experiment(v.path, check_fit=False)
            except ConfigError as e:
                problems += e.problems
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return 2
    outp = Path(out)
    outp.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results: dict[str, dict] = {}
    jobs = max(1, int(jobs))
    if jobs == 1 or len(defs) == 1:
        for st in defs:
            print(f"reproduce: {st.name} ...", file=sys.stderr, flush=True)
            results[st.name] = reproduce_study(st, outp, quick=quick)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(defs))) as ex:
            for n, info in ex.map(_run_one, [(str(st.directory), str(outp), quick) for st in defs]):
                results[n] = info
    total = time.perf_counter() - t0
    info = run_info(outp)
    info.setdefault("studies", {}).update(results)
    order = list(shipped) + sorted(k for k in info["studies"] if k not in shipped)
    info["studies"] = {k: info["studies"][k] for k in order if k in info["studies"]}
    if all_studies:
        info["command"] = "python -m toolkit reproduce --all" + (f" --jobs {jobs}" if jobs > 1 else "")
        info["total_runtime_s"] = round(total, 1)
        info["jobs"] = jobs
    else:
        info.setdefault("command", "python -m toolkit reproduce " + " ".join(st.name for st in defs))
        info.setdefault("total_runtime_s", round(total, 1))
        info.setdefault("jobs", jobs)
    info["nodes"] = sorted({n for r in info["studies"].values() for n in r.get("nodes", [])})
    (outp / RUN_INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    (outp / "README.md").write_text(render_readme(outp), encoding="utf-8")
    for st in defs:
        n, r = st.name, results[st.name]
        print(f"{n}: {r['points']} point(s) solved, {r['failures']} infeasible/failed, {r['runtime_s']:.1f} s -> "
              f"{outp / n / 'comparison.md'}")
    print(f"reproduce: {len(defs)} stud{'y' if len(defs) == 1 else 'ies'} in {total:.1f} s; index "
          f"{outp / 'README.md'}")
    return 0

