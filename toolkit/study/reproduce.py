"""Study reproductions: `python -m toolkit reproduce [STUDY ... | --all] [--out DIR] [--jobs N]`.

Each study is one question of shared/reference/studies.md with its experiment file(s) in experiments/
(`study_*.toml`, validated by `load_experiment`). Reproducing a study

1. solves its points (`solve_points`: serial, warm-started along intensity chains) and writes one HDF5 file per
   experiment file, OUT/<study>/<experiment>.h5 (successful solves as points, failed or infeasible ones in
   /failures, never as results);
2. reads those files back and computes the model's value of every published quantity (`StudyDef.evaluate`), so
   the tables are always a function of the stored data only;
3. compares them with toolkit/study/data/published.csv (`toolkit.study.comparison`) and writes
   OUT/<study>/comparison.md, a comparison figure and a few model figures;
4. rewrites OUT/README.md, the index with the headline table (`render_readme`).

`render_study_markdown` and `render_readme` use only the HDF5 files, OUT/run_info.json (run times) and the
experiment files, so `tests/test_studies.py` checks that the committed results/ are exactly what the committed
data give.

Hypotheses are labelled as such. Nothing here adjusts a model parameter toward a published number: every
variant was fixed in its experiment file before it was compared.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..model.leg import JOINTS
from . import comparison as C
from .config import ConfigError, Experiment, Point, load_experiment

__all__ = [
    "STUDIES", "STUDY_NAMES", "StudyDef", "Variant", "Record", "FailureRec", "StudyData", "solve_points",
    "reproduce_study", "reproduce_main", "load_study_data", "study_rows", "render_study_markdown",
    "render_readme", "experiments_dir", "compensated_saddle_height",
]

QUICK_NODES = 16
RUN_INFO = "run_info.json"
FIG_DPI = 100


def experiments_dir() -> Path:
    """The repository's experiments/ (next to the package), else ./experiments."""
    here = Path(__file__).resolve().parents[2] / "experiments"
    return here if here.is_dir() else Path.cwd() / "experiments"


# ----------------------------------------------------------------------------------------------------------
# Study definitions
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One experiment file of a study. label: what it stands for in tables (hypotheses say so).
    quick: --set overrides that shrink it for the quick (test) mode, besides solver.nodes."""

    file: str
    label: str
    quick: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudyDef:
    name: str
    title: str
    claims: str
    question: str
    variants: tuple[Variant, ...]
    evaluate: Callable[["StudyData"], "Evaluation"]
    select: Callable[[Point], bool] | None = None
    select_doc: str = ""
    figures: Callable[["StudyData", Sequence[C.ComparisonRow], Path], list[Path]] | None = None
    extras: Callable[[Any, Sequence[Experiment]], dict] | None = None


@dataclass
class Evaluation:
    values: list[C.ModelValue]
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_md: str = ""


# ----------------------------------------------------------------------------------------------------------
# Solving
# ----------------------------------------------------------------------------------------------------------

def _setup_cache_key(p: Point) -> tuple:
    return (p.rider.name, p.fit_name, repr(p.rider), repr(p.fit))


def solve_points(points: Sequence[Point], solver, progress: Callable[[int, int, Point, Any], None] | None = None
                 ) -> dict[str, Any]:
    """Solve points in order, serially; each point is warm-started from the previous successful solution of the
    same chain (same rider, fit, condition and cadence: consecutive intensities), else cold-started.
    Returns key -> Solution (failed or infeasible ones sealed, as the solver returns them)."""
    from ..model.leg import make_setup

    setups: dict[tuple, Any] = {}
    out: dict[str, Any] = {}
    chain, guess = None, None
    for i, p in enumerate(points):
        sk = _setup_cache_key(p)
        if sk not in setups:
            setups[sk] = make_setup(solver.model, p.rider, p.fit)
        this = (p.rider.name, p.fit_name, p.condition_label, p.spec.cadence_rpm)
        if this != chain:
            chain, guess = this, None
        sol = solver.solve(setups[sk], p.spec, guess=guess)
        if sol.success:
            guess = sol
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
    path = experiments_dir() / v.file
    overrides = [f"solver.nodes={QUICK_NODES}", *v.quick] if quick else []
    return load_experiment(path, overrides)


def _write_h5(path: Path, exp: Experiment, points: Sequence[Point], sols: Mapping[str, Any], variant: str) -> None:
    """Write a fresh result file atomically (built under a temporary name, then renamed over the old one)."""
    from ..io.hdf5 import write_failure, write_solutions

    tmp = path.with_name(f".{path.name}.building")
    if tmp.exists():
        tmp.unlink()
    try:
        items = []
        for p in points:
            sol = sols[p.key]
            labels = dict(p.labels, experiment=exp.name, variant=variant)
            if sol.success:
                items.append((p.key, sol, labels))
        write_solutions(tmp, items)
        for p in points:
            sol = sols[p.key]
            if not sol.success:
                write_failure(tmp, p.key, sol.stats, sol.spec, dict(p.labels, experiment=exp.name, variant=variant),
                              setup=sol.setup)
        if not tmp.exists():  # nothing at all: still leave a valid (empty) file
            from ..io.hdf5 import _rewrite
            _rewrite(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def reproduce_study(name: str, out: str | os.PathLike = "results", solver=None, quick: bool = False,
                    progress: bool = True, figures: bool = True) -> dict[str, Any]:
    """Solve, store, compare and render one study into OUT/<name>/. Returns run information
    (runtime_s, points, failures, nodes). quick: solver.nodes=16 and the study's reduced point set (tests)."""
    from ..ocp.solve import PedalingSolver

    study = STUDIES[name]
    t0 = time.perf_counter()
    solver = solver if solver is not None else PedalingSolver()
    sdir = Path(out) / name
    sdir.mkdir(parents=True, exist_ok=True)
    exps = [_load_variant(v, quick) for v in study.variants]
    n_points = n_fail = 0
    nodes = set()
    for v, exp in zip(study.variants, exps):
        pts = [p for p in exp.points() if study.select is None or study.select(p)]
        sols = solve_points(pts, solver, _progress_printer(name) if progress else None)
        _write_h5(sdir / f"{exp.name}.h5", exp, pts, sols, v.label)
        n_points += sum(1 for s in sols.values() if s.success)
        n_fail += sum(1 for s in sols.values() if not s.success)
        nodes.add(exp.solver.nodes)
    if study.extras is not None:
        extras = study.extras(solver, exps)
        (sdir / "extras.json").write_text(json.dumps(extras, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    info = {"runtime_s": round(time.perf_counter() - t0, 1), "points": n_points, "failures": n_fail,
            "nodes": sorted(nodes), "quick": quick}
    data = load_study_data(name, out)
    rows = study_rows(data)
    (sdir / "comparison.md").write_text(render_study_markdown(name, out, data=data), encoding="utf-8")
    if figures:
        _write_figures(study, data, rows, sdir)
    info["runtime_s"] = round(time.perf_counter() - t0, 1)
    return info


def _write_figures(study: StudyDef, data: "StudyData", rows, sdir: Path) -> list[Path]:
    for old in sdir.glob("*.png"):
        old.unlink()
    paths = [_save(comparison_figure(rows, f"{study.title}: model vs published"), sdir / "comparison.png")]
    if study.figures is not None:
        paths += study.figures(data, rows, sdir)
    return paths


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=FIG_DPI)
    return path


# ----------------------------------------------------------------------------------------------------------
# Reading results back
# ----------------------------------------------------------------------------------------------------------

@dataclass
class Record:
    experiment: str
    variant: str
    key: str
    labels: dict
    sol: Any
    _summary: Any = None

    @property
    def summary(self):
        if self._summary is None:
            from ..analysis.power import cycle_summary
            self._summary = cycle_summary(self.sol)
        return self._summary


@dataclass
class FailureRec:
    experiment: str
    variant: str
    key: str
    labels: dict
    status: str
    message: str
    largest_heel_drop_deg: float | None = None


def _match(labels: Mapping[str, Any], crit: Mapping[str, Any]) -> bool:
    for k, want in crit.items():
        have = labels.get(k)
        if isinstance(want, (int, float)) and not isinstance(want, bool):
            try:
                if not math.isclose(float(have), float(want), rel_tol=1e-9, abs_tol=1e-9):
                    return False
            except (TypeError, ValueError):
                return False
        elif have != want:
            return False
    return True


@dataclass
class StudyData:
    name: str
    records: list[Record]
    failures: list[FailureRec]
    warnings: list[str]
    extras: dict
    experiments: list[Experiment]

    def find(self, experiment: str | None = None, **labels) -> list[Record]:
        return [r for r in self.records if (experiment is None or r.experiment == experiment)
                and _match(r.labels, labels)]

    def one(self, experiment: str | None = None, **labels) -> Record | None:
        found = self.find(experiment, **labels)
        return found[0] if found else None

    def failed(self, experiment: str | None = None, **labels) -> list[FailureRec]:
        return [f for f in self.failures if (experiment is None or f.experiment == experiment)
                and _match(f.labels, labels)]


def load_study_data(name: str, out: str | os.PathLike = "results") -> StudyData:
    """Everything stored for a study under OUT/<name>/ (no solving). Experiments are re-read from
    experiments/ for their warnings and settings; the stored points decide what is shown."""
    from ..io.hdf5 import read_failures, read_points

    study = STUDIES[name]
    sdir = Path(out) / name
    records, failures, warnings, exps = [], [], [], []
    for v in study.variants:
        exp = load_experiment(experiments_dir() / v.file)
        exps.append(exp)
        warnings += [w.split(": ", 1)[1] if ": " in w else w for w in exp.warnings]
        path = sdir / f"{exp.name}.h5"
        if not path.exists():
            continue
        for key, sp in read_points(path).items():
            records.append(Record(exp.name, sp.labels.get("variant", v.label), key, sp.labels, sp.solution))
        for key, fr in read_failures(path).items():
            drop = (fr.setup or {}).get("largest_heel_drop_deg")
            failures.append(FailureRec(exp.name, fr.labels.get("variant", v.label), key, fr.labels, fr.stats.status,
                                       fr.stats.message, None if drop is None else float(drop)))
    extras_path = sdir / "extras.json"
    extras = json.loads(extras_path.read_text(encoding="utf-8")) if extras_path.exists() else {}
    return StudyData(name, records, failures, warnings, extras, exps)


def study_rows(data: StudyData, published=None) -> list[C.ComparisonRow]:
    ev = STUDIES[data.name].evaluate(data)
    return C.compare(ev.values, published if published is not None else C.load_published())


# ----------------------------------------------------------------------------------------------------------
# Metrics of one solution (all from the stored arrays)
# ----------------------------------------------------------------------------------------------------------

def shares_pct(r: Record) -> dict[str, float]:
    return {j: 100.0 * v for j, v in r.summary.joint_work_share.items()}


def action_shares_pct(r: Record) -> dict[str, float]:
    """Positive work of each joint action (hip/knee/ankle x extension/flexion) in % of the total positive joint
    work (extension: done with an extensor/plantarflexor moment)."""
    s = r.summary
    tot = s.total_positive_joint_work_J
    out = {}
    for j in JOINTS:
        out[f"{j}_extension"] = 100.0 * s.extension_work_J[j] / tot
        out[f"{j}_flexion"] = 100.0 * s.flexion_work_J[j] / tot
    return out


def mean_positive_power_W(r: Record, joint: str) -> float:
    """Mean positive power of a joint over the cycle, both legs (W)."""
    return 2.0 * r.summary.positive_work_J[joint] / r.sol.period_s


def peak_action_power_W(r: Record, joint: str, action: str) -> float:
    """Peak positive power (one leg, W) of a joint while its moment is extensor ('extension') or flexor."""
    from ..analysis.power import joint_power

    j = JOINTS.index(joint)
    P = joint_power(r.sol)[j]
    M = r.sol["moment"][j]
    mask = (M < 0) if action == "extension" else (M >= 0)
    vals = P[mask & (P > 0)]
    return float(vals.max()) if vals.size else 0.0


def _angle_at(sol, row: int, crank_deg: float) -> float:
    th = np.degrees(sol["theta"])
    q = np.degrees(sol["q"][row])
    return float(np.interp(crank_deg, np.concatenate([th, [360.0]]), np.concatenate([q, q[:1]])))


def knee_at_bdc_deg(sol) -> float:
    return _angle_at(sol, 1, 180.0)


def hip_flexion_mean_deg(sol, window_deg: tuple[float, float]) -> float:
    """Mean hip flexion (deg) over a crank-angle window (1-deg grid, periodic linear interpolation)."""
    grid = np.arange(window_deg[0], window_deg[1] + 1e-9, 1.0)
    return float(np.mean([_angle_at(sol, 0, g) for g in grid]))


def max_activation(r: Record) -> float:
    return float(np.max(r.sol["activation"]))


def _f(x: float | None, spec: str = ".1f") -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return format(x, spec)


# ----------------------------------------------------------------------------------------------------------
# Study 1: heel drop (claim A, E)
# ----------------------------------------------------------------------------------------------------------

HEEL_DROP_BASE_FIT = "default"
COMP_PREFIX = "comp_heel_drop"


def _heel_select(p: Point) -> bool:
    """The default fit gets every condition; a fit-compensated fit only its own heel drop."""
    if p.fit_name == HEEL_DROP_BASE_FIT:
        return True
    if p.fit_name.startswith(COMP_PREFIX):
        return p.condition_label == "heel_drop" + p.fit_name[len(COMP_PREFIX):]
    return True


def _heel_extras(solver, exps: Sequence[Experiment]) -> dict:
    """Largest feasible heel drop (geometry only) vs saddle height, on the study's mesh and window."""
    from ..model.bikefit import BikeFit
    from ..model.leg import make_setup
    from ..ocp.feasibility import largest_heel_drop_deg
    from ..ocp.problem import ProblemSpec
    from ..ocp.transcription import heel_drop_nodes, Transcription

    exp = exps[0]
    rider = exp.riders[0]
    window = exp.conditions.heel_drop_window_deg
    spec = ProblemSpec(condition="heel_drop", heel_drop_window_deg=window, solver=exp.solver)
    tr, _, _ = solver._get(spec)
    theta = tr.theta[heel_drop_nodes(tr.theta, spec)]
    base = dict(exp.fits)[HEEL_DROP_BASE_FIT]
    rows = []
    for h in (0.690, 0.695, 0.700, 0.705, 0.710, 0.715, 0.720, 0.730, 0.740):
        fit = BikeFit(saddle_rule="absolute", saddle_height_m=h, seat_tube_angle_deg=base.seat_tube_angle_deg,
                      trunk_angle_deg=base.trunk_angle_deg, crank_length_m=base.crank_length_m)
        setup = make_setup(solver.model, rider, fit)
        rows.append([h, round(float(largest_heel_drop_deg(solver.model, setup, theta)), 2)])
    return {"largest_heel_drop_vs_saddle": {"window_deg": list(window), "nodes": exp.solver.nodes,
                                            "rows": rows}}


HEEL_WHY = {
    "hip_flexion_change_deg": "the hip angle in the window follows from the pedal position and the sole angle: "
                              "a lower heel puts the ankle lower and further back, which extends the knee and hip",
    "hip_share_change_pp": "a level or heel-down sole makes the ankle plantarflexors do more of the work (the "
                           "ankle share rises), which at small drops takes share from the hip as well as the knee",
    "knee_share_change_pp": "see hip share",
}


def _eval_heel(data: StudyData) -> Evaluation:
    exp = data.experiments[0]
    window = tuple(exp.conditions.heel_drop_window_deg)
    base = dict(fit=HEEL_DROP_BASE_FIT)
    free = data.one(**base, condition_label="free")
    vals: list[C.ModelValue] = []
    table: list[list[str]] = []
    notes: list[str] = []
    S = "heel_drop"
    win = f"{window[0]:g}-{window[1]:g} deg"
    if free is None:
        return Evaluation([C.ModelValue(S, "hip_share_change_pp", "free ankle", None, missing="free-ankle point "
                                        "missing")])
    f_sh, f_hip, f_cost = shares_pct(free), hip_flexion_mean_deg(free.sol, window), free.sol.stats.objective
    drops = sorted(exp.conditions.heel_drop_deg)
    feasible = [d for d in drops if data.one(**base, condition_label=f"heel_drop{d:g}") is not None]
    head_drop = max(feasible) if feasible else None
    for d in drops:
        lab = f"heel_drop{d:g}"
        r = data.one(**base, condition_label=lab)
        label = f"heel drop {d:g} deg vs free, same saddle"
        if r is None:
            fails = data.failed(**base, condition_label=lab)
            fm = fails[0] if fails else None
            if fm is not None and fm.status == "Infeasible_Request":
                why = (f"infeasible at this fit: a sole angle <= -{d:g} deg over crank {win} needs more ankle "
                       f"dorsiflexion than its range; largest feasible drop {fm.largest_heel_drop_deg:.1f} deg")
            else:
                why = f"solve failed ({fm.status if fm else 'not run'})"
            vals.append(C.ModelValue(S, "hip_share_change_pp", label, None, missing=why))
            continue
        sh = shares_pct(r)
        dhip = hip_flexion_mean_deg(r.sol, window) - f_hip
        head = d == head_drop
        vals.append(C.ModelValue(S, "hip_flexion_change_deg", label, dhip,
                                 detail=f"mean hip flexion over crank {win}: {f_hip:.1f} -> {f_hip + dhip:.1f} deg",
                                 why=HEEL_WHY["hip_flexion_change_deg"], headline=head))
        vals.append(C.ModelValue(S, "hip_share_change_pp", label, sh["hip"] - f_sh["hip"],
                                 detail=f"hip share {f_sh['hip']:.1f} -> {sh['hip']:.1f} %",
                                 why=HEEL_WHY["hip_share_change_pp"], headline=head))
        vals.append(C.ModelValue(S, "knee_share_change_pp", label, sh["knee"] - f_sh["knee"],
                                 detail=f"knee share {f_sh['knee']:.1f} -> {sh['knee']:.1f} %; ankle "
                                        f"{f_sh['ankle']:.1f} -> {sh['ankle']:.1f} %",
                                 why=HEEL_WHY["knee_share_change_pp"], headline=head))
        if head:
            cost = 100.0 * (r.sol.stats.objective - f_cost) / f_cost
            vals.append(C.ModelValue(S, "cost_change_pct", label, cost,
                                     detail="optimal-control cost (muscle effort) vs free ankle", headline=True))
    # fit-compensated variant
    target = knee_at_bdc_deg(free.sol)
    for fit_name, fit in exp.fits:
        if not fit_name.startswith(COMP_PREFIX):
            continue
        d = float(fit_name[len(COMP_PREFIX):])
        lab = f"heel_drop{d:g}"
        label = f"heel drop {d:g} deg, saddle lowered to {fit.saddle_height_m:.4f} m (knee at BDC kept)"
        r = data.one(fit=fit_name, condition_label=lab)
        if r is None:
            fails = data.failed(fit=fit_name, condition_label=lab)
            fm = fails[0] if fails else None
            miss = (f"infeasible: largest feasible drop at this saddle {fm.largest_heel_drop_deg:.1f} deg"
                    if fm is not None and fm.status == "Infeasible_Request"
                    else f"solve failed ({fm.status if fm else 'not run'})")
            vals.append(C.ModelValue(S, "hip_share_change_pp", label, None, missing=miss))
            continue
        sh = shares_pct(r)
        kb = knee_at_bdc_deg(r.sol)
        vals.append(C.ModelValue(S, "hip_share_change_pp", label, sh["hip"] - f_sh["hip"],
                                 detail=f"hip share {f_sh['hip']:.1f} -> {sh['hip']:.1f} %; knee at BDC "
                                        f"{kb:.1f} deg (free ankle at the default fit: {target:.1f})",
                                 why=HEEL_WHY["hip_share_change_pp"]))
        vals.append(C.ModelValue(S, "knee_share_change_pp", label, sh["knee"] - f_sh["knee"],
                                 detail=f"knee share {f_sh['knee']:.1f} -> {sh['knee']:.1f} %",
                                 why=HEEL_WHY["knee_share_change_pp"]))
    # points table
    header = ["fit", "saddle (m)", "condition", "hip %", "knee %", "ankle %", f"mean hip flexion {win} (deg)",
              "hip flexion at 90 deg (deg)", "knee at BDC (deg)", "sole at 90 deg (deg)", "cost"]
    for r in data.records:
        sh = shares_pct(r)
        sole90 = float(np.degrees(np.interp(math.pi / 2, r.sol["theta"], r.sol["phi"])))
        table.append([r.labels["fit"], f"{r.sol.setup['saddle_height_m']:.4f}", r.labels["condition_label"],
                      _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]), _f(hip_flexion_mean_deg(r.sol, window)),
                      _f(_angle_at(r.sol, 0, 90.0)), _f(knee_at_bdc_deg(r.sol)), _f(sole90),
                      _f(r.sol.stats.objective, ".4g")])
    for fm in data.failures:
        table.append([fm.labels.get("fit", "?"), "", fm.labels.get("condition_label", "?"), "infeasible"
                      if fm.status == "Infeasible_Request" else fm.status, "", "", "", "", "", "",
                      f"largest feasible drop {fm.largest_heel_drop_deg:.1f} deg" if fm.largest_heel_drop_deg
                      is not None else fm.message])
    fx = data.one(**base, condition_label="fixed")
    if fx is not None:
        notes.append(f"Fixed ankle ({exp.conditions.fixed_ankle_deg:g} deg) at the same saddle: hip "
                     f"{shares_pct(fx)['hip']:.1f} %, knee {shares_pct(fx)['knee']:.1f} % (free: hip "
                     f"{f_sh['hip']:.1f} %, knee {f_sh['knee']:.1f} %, ankle {f_sh['ankle']:.1f} %).")
    h0 = data.one(**base, condition_label="heel_drop0")
    if h0 is not None:
        notes.append(f"`heel_drop0` (sole level or heel-down, i.e. no toe-down, over crank {win}) already differs "
                     f"from the free ankle, whose sole is toe-down there: hip {shares_pct(h0)['hip']:.1f} %, knee "
                     f"{shares_pct(h0)['knee']:.1f} %, ankle {shares_pct(h0)['ankle']:.1f} %.")
    notes.append(
        "Fit compensation (as a bike fitter would): the saddle of each `comp_heel_drop*` fit was lowered until the "
        "knee flexion at BDC of the *solved* heel-drop motion equals that of the free ankle at the default fit "
        f"({target:.1f} deg): the dynamic knee-angle rule used in video fitting. The static knee_bdc rule with "
        "ankle_at_bdc_deg raised by the drop would assume the heel is also dropped at BDC, which the heel-drop "
        f"condition (window {win}) does not impose; the solved ankle at BDC moves by only a few degrees, so the "
        "static rule would lower the saddle far more. Heights were computed once by "
        "`python -m toolkit.study.reproduce --compensation` and written into the experiment file.")
    scan = data.extras.get("largest_heel_drop_vs_saddle")
    extra = ""
    if scan:
        extra = ("### Largest feasible heel drop vs saddle height (geometry only, no solve)\n\n"
                 f"Crank window {scan['window_deg'][0]:g}-{scan['window_deg'][1]:g} deg at the {scan['nodes']} mesh "
                 "nodes inside it. Around the default height (0.711 m) lowering the saddle flexes the knee and leans the "
                 "shank back, so a lower saddle allows *less* heel drop (well above it other joint limits bind).\n\n| saddle height (m) | largest feasible drop (deg) |\n|---|---|\n"
                 + "".join(f"| {h:.3f} | {d:.2f} |\n" for h, d in scan["rows"]))
    return Evaluation(vals, header, table, notes, extra)


def _heel_figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from ..plots import figures as F

    items = {}
    for r in data.find(fit=HEEL_DROP_BASE_FIT):
        items[r.labels["condition_label"]] = r.sol
    for r in data.records:
        if r.labels["fit"].startswith(COMP_PREFIX):
            items[f"{r.labels['condition_label']}, saddle {r.sol.setup['saddle_height_m']:.3f} m"] = r.sol
    paths = []
    if items:
        paths.append(_save(F.joint_shares_bar_figure(items, title="Joint shares at 200 W, 90 rpm: free, fixed, "
                                                     "heel drop (same saddle) and fit-compensated"),
                           sdir / "joint_shares.png"))
        sel = {k: v for k, v in items.items() if k in ("free", "fixed") or k.startswith("heel_drop10")}
        paths.append(_save(F.joint_power_figure(sel or items), sdir / "joint_power.png"))
    return paths


# ----------------------------------------------------------------------------------------------------------
# Study 2: lactate threshold (claim B)
# ----------------------------------------------------------------------------------------------------------

LT_BASE = "study_lactate_threshold"
LT_WHY = {
    "hlt_knee_power_change_pct": "in the model, knee power scales with the crank power unless something limits "
                                 "the knee extensors; a lactate threshold is not a model input",
    "hip_share_hlt_minus_llt_at_90_pp": "the two profiles differ only in lactate threshold, which the model does "
                                        "not see: at equal % VO2max they pose identical problems",
    "llt_knee_power_change_pct": "knee power follows the crank power in the model",
}


def _knee_series(data: StudyData, experiment: str, rider: str) -> list[tuple[float, float, Record]]:
    recs = data.find(experiment, rider=rider)
    return sorted(((float(r.labels["intensity_value"]), mean_positive_power_W(r, "knee"), r) for r in recs),
                  key=lambda t: t[0])


def _eval_lt(data: StudyData) -> Evaluation:
    S = "lactate_threshold"
    vals: list[C.ModelValue] = []
    notes: list[str] = []
    base = data.experiments[0].name
    llt = _knee_series(data, base, "low_lt")
    hlt_base = _knee_series(data, base, "high_lt")

    def change(series):
        if len(series) < 2:
            return None, ""
        a, b = series[0], series[-1]
        return (C.relative_change_pct(a[1], b[1]),
                f"knee power {a[1]:.0f} W at {a[0]:g} % -> {b[1]:.0f} W at {b[0]:g} % VO2max "
                f"({a[2].sol.spec.power_W:.0f} -> {b[2].sol.spec.power_W:.0f} W crank)")

    def at90(series):
        for x, _, r in series:
            if math.isclose(x, 90.0):
                return r
        return None

    v, det = change(llt)
    vals.append(C.ModelValue(S, "llt_knee_power_change_pct", "LLT rider (low_lt profile)", v, detail=det,
                             why=LT_WHY["llt_knee_power_change_pct"], headline=True,
                             missing="" if v is not None else "LLT points missing"))
    llt90 = at90(llt)
    variants = [(base, "baseline: profiles differ only in LT")] + [
        (e.name, v_.label) for e, v_ in zip(data.experiments[1:], STUDIES[S].variants[1:])]
    summary = []
    for exp_name, vlabel in variants:
        hlt = _knee_series(data, exp_name, "high_lt") if exp_name == base else \
            _knee_series(data, exp_name, _variant_rider(data, exp_name))
        v, det = change(hlt)
        head = exp_name == base
        vals.append(C.ModelValue(S, "hlt_knee_power_change_pct", f"HLT, {vlabel}", v, detail=det,
                                 why=LT_WHY["hlt_knee_power_change_pct"], headline=head,
                                 missing="" if v is not None else "HLT points missing"))
        h90 = at90(hlt)
        if h90 is not None and llt90 is not None:
            dh = shares_pct(h90)["hip"] - shares_pct(llt90)["hip"]
            vals.append(C.ModelValue(S, "hip_share_hlt_minus_llt_at_90_pp", f"HLT, {vlabel}", dh,
                                     detail=f"hip share at 90 % VO2max: HLT {shares_pct(h90)['hip']:.1f} %, LLT "
                                            f"(baseline) {shares_pct(llt90)['hip']:.1f} %",
                                     why=LT_WHY["hip_share_hlt_minus_llt_at_90_pp"], headline=head))
        else:
            dh = None
            vals.append(C.ModelValue(S, "hip_share_hlt_minus_llt_at_90_pp", f"HLT, {vlabel}", None,
                                     missing="90 % VO2max point missing"))
        summary.append((vlabel, v, dh))
    # finding-by-finding verdicts per mechanism
    pub = C.published_index(C.load_published())
    f1 = C.evaluate(pub[(S, "llt_knee_power_change_pct")].criterion, vals[0].value, "rise")[0]
    lines = []
    for vlabel, v, dh in summary:
        f2 = C.evaluate(pub[(S, "hlt_knee_power_change_pct")].criterion, v, "flat")[0]
        f3 = C.evaluate(pub[(S, "hip_share_hlt_minus_llt_at_90_pp")].criterion, dh, "HLT greater")[0]
        n = sum(1 for f in (f1, f2, f3) if f)
        lines.append(f"- {vlabel}: finding 1 (LLT knee power rises) {C.agreement_text(f1)}, finding 2 (HLT knee "
                     f"power flat) {C.agreement_text(f2)}, finding 3 (HLT relative hip power > LLT at 90 %) "
                     f"{C.agreement_text(f3)}: {n} of 3.")
    # identical problems
    diffs = []
    for (x1, _, r1), (x2, _, r2) in zip(hlt_base, llt):
        diffs.append(max(abs(shares_pct(r1)[j] - shares_pct(r2)[j]) for j in JOINTS))
    if diffs:
        notes.append(
            "As configured, `high_lt` and `low_lt` differ only in their lactate threshold (81.5 vs 65.8 % VO2max; "
            "same body, VO2max 4.8 L/min and gross efficiency 0.21). The model does not see a lactate threshold, so "
            "at equal % VO2max the two riders pose *identical* problems and get identical solutions (largest "
            f"difference in any joint share over the sweep: {max(diffs):.2g} pp). The baseline therefore cannot "
            "reproduce any difference between the groups; `load_experiment` warns about exactly this.")
    notes.append("Candidate mechanisms, each an explicit, labelled hypothesis applied to the HLT rider only and "
                 "compared with the baseline LLT rider; the factors are round numbers fixed in the experiment files "
                 "before comparison, not fitted:")
    notes.extend(lines)
    header = ["experiment", "rider", "% VO2max", "crank W", "hip %", "knee %", "ankle %", "knee power W",
              "hip power W", "max activation"]
    rows = []
    for r in sorted(data.records, key=lambda r: (r.experiment, r.labels["rider"], r.labels["intensity_value"])):
        sh = shares_pct(r)
        rows.append([r.experiment, r.labels["rider"], f"{r.labels['intensity_value']:g}",
                     f"{r.sol.spec.power_W:.0f}", _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                     _f(mean_positive_power_W(r, "knee"), ".0f"), _f(mean_positive_power_W(r, "hip"), ".0f"),
                     _f(max_activation(r), ".2f")])
    for fm in data.failures:
        rows.append([fm.experiment, fm.labels.get("rider", "?"), str(fm.labels.get("intensity_value", "?")), "",
                     fm.status, "", "", "", "", ""])
    return Evaluation(vals, header, rows, notes)


def _variant_rider(data: StudyData, exp_name: str) -> str:
    recs = data.find(exp_name)
    names = sorted({r.labels["rider"] for r in recs})
    return names[0] if names else "high_lt"


def _lt_figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    base = data.experiments[0].name
    series = {"LLT (baseline)": _knee_series(data, base, "low_lt"),
              "HLT (baseline, identical to LLT)": _knee_series(data, base, "high_lt")}
    for e, v in zip(data.experiments[1:], STUDIES["lactate_threshold"].variants[1:]):
        series[f"HLT, {v.label}"] = _knee_series(data, e.name, _variant_rider(data, e.name))
    fig = Figure(figsize=(12, 4.4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    styles = ["-o", "--s", "-^", "-v", "-D"]
    for (lab, s), st in zip(series.items(), styles):
        if not s:
            continue
        x = [p[0] for p in s]
        ax1.plot(x, [p[1] for p in s], st, label=lab, ms=5)
        ax2.plot(x, [shares_pct(p[2])["hip"] for p in s], st, label=lab, ms=5)
    ax1.set_xlabel("intensity (% VO2max)")
    ax1.set_ylabel("mean positive knee power, both legs (W)")
    ax1.set_title("Knee power vs work rate (claim B: LLT rises, HLT flat)", fontsize="small")
    ax2.set_xlabel("intensity (% VO2max)")
    ax2.set_ylabel("hip share of positive joint work (%)")
    ax2.set_title("Relative hip power (claim B: HLT > LLT at 90 %)", fontsize="small")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    ax1.legend(fontsize="x-small")
    fig.suptitle("High vs low lactate threshold riders: baseline and candidate mechanisms (hypotheses)")
    return [_save(fig, sdir / "knee_power_and_hip_share.png")]


# ----------------------------------------------------------------------------------------------------------
# Study 3: trunk angle (claim C)
# ----------------------------------------------------------------------------------------------------------

TRUNK_FITS = {"hip_closed10": "hip angle -10 deg (trunk lowered 10 deg)", "ideal": "ideal (default trunk)",
              "hip_open10": "hip angle +10 deg (trunk raised 10 deg)"}


def _eval_trunk(data: StudyData) -> Evaluation:
    S = "trunk_angle"
    vals: list[C.ModelValue] = []
    powers = sorted({float(r.labels["power_W"]) for r in data.records})
    header = ["fit", "trunk (deg)", "power W", "hip %", "knee %", "ankle %", "mean hip flexion (deg)",
              "hip power W", "knee power W", "max activation"]
    rows = []
    for P in powers:
        o = data.one(fit="hip_open10", power_W=P)
        c = data.one(fit="hip_closed10", power_W=P)
        i = data.one(fit="ideal", power_W=P)
        for q, j in (("hip_share_open_minus_closed_pp", "hip"), ("knee_share_open_minus_closed_pp", "knee")):
            if o is None or c is None:
                vals.append(C.ModelValue(S, q, f"{P:g} W", None, missing="a fit's point is missing"))
                continue
            mid = f", ideal {shares_pct(i)[j]:.1f} %" if i is not None else ""
            vals.append(C.ModelValue(S, q, f"{P:g} W, free ankle", shares_pct(o)[j] - shares_pct(c)[j],
                                     detail=f"{j} share: -10 deg {shares_pct(c)[j]:.1f} %{mid}, +10 deg "
                                            f"{shares_pct(o)[j]:.1f} %",
                                     why="pelvis tilt moves the hip muscles along their force-length curves",
                                     headline=(j == "hip" and P == powers[-1])))
    for r in data.records:
        sh = shares_pct(r)
        rows.append([r.labels["fit"], f"{r.sol.setup['fit']['trunk_angle_deg']:g}", f"{r.sol.spec.power_W:g}",
                     _f(sh["hip"]), _f(sh["knee"]), _f(sh["ankle"]),
                     _f(float(np.degrees(r.sol["q"][0]).mean())), _f(mean_positive_power_W(r, "hip"), ".0f"),
                     _f(mean_positive_power_W(r, "knee"), ".0f"), _f(max_activation(r), ".2f")])
    notes = ["The trunk angle tilts the pelvis one-to-one (model_parameters.toml [pelvis] lumbar_coupling = 1) while "
             "the hip joint centre stays where the saddle puts it, so the leg moves exactly as before and only the "
             "hip angle (thigh vs pelvis) and the hip-muscle lengths change by 10 deg: the study's manipulation. "
             "The published claim gives no direction, so the criterion only asks for a change."]
    for fm in data.failures:
        rows.append([fm.labels.get("fit", "?"), "", str(fm.labels.get("power_W", "")), fm.status, "", "", "", "",
                     "", ""])
    return Evaluation(vals, header, rows, notes)


def _trunk_figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from ..plots import figures as F

    items = {TRUNK_FITS.get(r.labels["fit"], r.labels["fit"]): r.sol for r in
             sorted(data.records, key=lambda r: list(TRUNK_FITS).index(r.labels["fit"])
                    if r.labels["fit"] in TRUNK_FITS else 9)}
    if not items:
        return []
    P = next(iter(items.values())).spec.power_W
    return [_save(F.joint_shares_bar_figure(items, title=f"Joint shares at {P:g} W by trunk position"),
                  sdir / "joint_shares.png"),
            _save(F.joint_power_figure(items, title=f"Joint power at {P:g} W by trunk position"),
                  sdir / "joint_power.png")]


# ----------------------------------------------------------------------------------------------------------
# Study 4: recumbent (claim D)
# ----------------------------------------------------------------------------------------------------------

def fibre_stretch(r: Record) -> tuple[str, float, float]:
    """(muscle, max fibre length / optimal, max force / max isometric force of that muscle) of the most
    stretched muscle over the cycle: a plausibility check of the fit (passive forces grow steeply past ~1.5)."""
    from ..model.muscles import MUSCLE_NAMES

    mus = r.sol.setup["muscles"]
    lopt = np.array([mus[m]["optimal_fiber_length_m"] for m in MUSCLE_NAMES])
    fmax = np.array([mus[m]["max_force_N"] for m in MUSCLE_NAMES])
    ln = (r.sol["fiber_length"] / lopt[:, None]).max(axis=1)
    i = int(np.argmax(ln))
    return MUSCLE_NAMES[i], float(ln[i]), float((r.sol["force"][i] / fmax[i]).max())


RECUMBENT_FITS = {"recumbent": "recumbent (backrest 10 deg behind vertical)",
                  "recumbent_reclined": "recumbent, reclined backrest (25 deg; RF overstretched: artefact)",
                  "default": "upright default fit (contrast)"}


def _eval_recumbent(data: StudyData) -> Evaluation:
    S = "recumbent"
    vals: list[C.ModelValue] = []
    rows = []
    header = ["fit", "trunk (deg)", "power W", "cadence rpm", "hip power W", "knee power W", "hip/knee", "hip %",
              "knee %", "hip flexion range (deg)", "knee flexion range (deg)", "most stretched fibre (L/Lopt)",
              "its max force / Fmax"]
    order = list(RECUMBENT_FITS)
    recs = sorted(data.records, key=lambda r: (order.index(r.labels["fit"]) if r.labels["fit"] in order else 9,
                                               r.labels["power_W"]))
    for r in recs:
        hp, kp = mean_positive_power_W(r, "hip"), mean_positive_power_W(r, "knee")
        ratio = hp / kp if kp > 0 else math.nan
        P = float(r.labels["power_W"])
        fit = r.labels["fit"]
        m, ln, ff = fibre_stretch(r)
        det = f"hip {hp:.1f} W, knee {kp:.1f} W (both legs); most stretched fibre {m} {ln:.2f} Lopt"
        if fit == "recumbent":
            vals.append(C.ModelValue(S, "hip_to_knee_power_ratio", f"{RECUMBENT_FITS[fit]}, fixed ankle, {P:g} W",
                                     ratio, detail=det,
                                     why="the study's seat, backrest, crank position and cadence are unknown; in the "
                                         "model the knee extensors take most of the added work as the power rises, "
                                         "so the ratio falls with work rate",
                                     headline=True))
        else:
            vals.append(C.ModelValue(S, f"hip_to_knee_power_ratio_{'reclined' if fit != 'default' else 'upright'}",
                                     f"{RECUMBENT_FITS.get(fit, fit)}, fixed ankle, {P:g} W", ratio, detail=det))
        sh = shares_pct(r)
        q = np.degrees(r.sol["q"])
        rows.append([fit, f"{r.sol.setup['fit']['trunk_angle_deg']:g}", f"{P:g}", f"{r.sol.spec.cadence_rpm:g}",
                     _f(hp), _f(kp), _f(ratio, ".2f"), _f(sh["hip"]), _f(sh["knee"]),
                     f"{q[0].min():.0f} to {q[0].max():.0f}", f"{q[1].min():.0f} to {q[1].max():.0f}",
                     f"{m} {ln:.2f}", f"{ff:.2f}"])
    for fm in data.failures:
        rows.append([fm.labels.get("fit", "?"), "", str(fm.labels.get("power_W", "")), "", fm.status] + [""] * 8)
    notes = ["The recumbent study's geometry and cadence are not known; the experiment assumes a recumbent ergometer "
             "(study_recumbent.toml: seat-tube angle 15 deg, saddle set so the knee is 30 deg flexed at its most "
             "extended point with the fixed ankle, 60 rpm). The upright default fit at the same work rates is a "
             "contrast (model-only rows)."]
    rec = [r for r in recs if r.labels["fit"] == "recumbent_reclined"]
    if rec:
        m, ln, ff = fibre_stretch(rec[0])
        hp, kp = mean_positive_power_W(rec[0], "hip"), mean_positive_power_W(rec[0], "knee")
        notes.append(
            f"Order of events, stated plainly: the first backrest tried (reclined, trunk 115 deg) stretches {m} to "
            f"{ln:.2f} optimal fibre lengths with force up to {ff:.1f} x its max isometric force; its passive force "
            f"then carries work from the knee to the hip (at {rec[0].labels['power_W']:g} W: hip {hp:.0f} W and "
            f"knee {kp:.0f} W of positive power for {rec[0].labels['power_W']:g} W at the crank), an artefact of "
            "an implausible fit. The study's `recumbent` fit (trunk 100 deg) was then chosen by a rule fixed before "
            "its result was seen: no fibre longer than at the upright default fit. Both are reported.")
    ups = [r for r in recs if r.labels["fit"] == "recumbent"]
    if ups:
        tot = np.mean([(r.summary.total_positive_joint_work_J / r.summary.crank_work_J) for r in ups])
        notes.append(f"In the `recumbent` fit the total positive joint work is on average {tot:.1f} x the crank work "
                     "(negative joint work makes up the rest): at these low powers much of the joint power is "
                     "energy passed between the joints, so ratios of positive power say more about that exchange "
                     "than about propulsion.")
    return Evaluation(vals, header, rows, notes)


def _recumbent_figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.4), layout="constrained")
    ax = fig.subplots()
    for fit, st in (("recumbent", "-"), ("recumbent_reclined", ":"), ("default", "--")):
        recs = sorted(data.find(fit=fit), key=lambda r: r.labels["power_W"])
        if not recs:
            continue
        x = [r.labels["power_W"] for r in recs]
        ax.plot(x, [mean_positive_power_W(r, "hip") for r in recs], st + "o", color="tab:blue",
                label=f"hip, {fit}")
        ax.plot(x, [mean_positive_power_W(r, "knee") for r in recs], st + "s", color="tab:orange",
                label=f"knee, {fit}")
    ax.set_xlabel("work rate, both legs (W)")
    ax.set_ylabel("mean positive joint power, both legs (W)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    ax.set_title("Fixed ankle: hip vs knee power, recumbent (solid), reclined recumbent (dotted, RF "
                 "overstretched), upright (dashed)\nclaim D: approximately equal in the recumbent", fontsize="small")
    return [_save(fig, sdir / "hip_knee_power.png")]


# ----------------------------------------------------------------------------------------------------------
# Study 5: classic joint-power studies (Ericson 1986, Elmer et al. 2011)
# ----------------------------------------------------------------------------------------------------------

ERICSON = (120.0, 60.0)
ELMER_CADENCE = 90.0
ELMER_RANGE = (250.0, 850.0)


def _classic_select(p: Point) -> bool:
    """Ericson's point (120 W at 60 rpm) and Elmer's sweep (>= 250 W at 90 rpm); not the cross terms."""
    P, cad = p.spec.power_W, p.spec.cadence_rpm
    return (math.isclose(P, ERICSON[0]) and math.isclose(cad, ERICSON[1])) or \
        (math.isclose(cad, ELMER_CADENCE) and P >= ELMER_RANGE[0])


CLASSIC_WHY = {
    "hip_extension": "the model's cost (sum of squared activations) recruits the hip flexor (ILIO) in the upstroke "
                     "and the knee extensors in the downstroke more than riders do; measured hip-extensor work "
                     "also includes work transferred from the trunk, which a model with a fixed pelvis cannot do",
    "hip_flexion": "pulling up with the hip flexors spreads the work over more muscles, which the "
                   "activation-squared cost rewards; riders use it far less at 120 W",
    "knee_flexion": "the model's knee flexors (HAMS, BFSH) mostly act at the hip or are barely recruited",
    "knee_extension": "the minimum-effort cost loads the large vasti in the downstroke; riders share it more with "
                      "the hip extensors",
    "peak": "the model's joints do much more positive (and negative) work than the crank needs (see the notes), so "
            "its peaks are higher; peaks also depend on timing that a 40-node cycle only approximates",
    "elmer_trend": "the model's action shares barely change with power until activations saturate: a minimum-"
                   "effort cost scales every muscle's activation together instead of shifting toward the hip",
}


def _eval_classic(data: StudyData) -> Evaluation:
    S = "classic"
    vals: list[C.ModelValue] = []
    notes: list[str] = []
    e = data.one(power_W=ERICSON[0], cadence_rpm=ERICSON[1])
    lab_e = f"free ankle, {ERICSON[0]:g} W, {ERICSON[1]:g} rpm"
    if e is None:
        vals.append(C.ModelValue(S, "ericson_knee_share_pct", lab_e, None, missing="point failed"))
    else:
        sh, act = shares_pct(e), action_shares_pct(e)
        for j in JOINTS:
            vals.append(C.ModelValue(S, f"ericson_{j}_share_pct", lab_e, sh[j], headline=True,
                                     why=CLASSIC_WHY["hip_extension"] if j == "hip" else ""))
        for j in JOINTS:
            for a in ("extension", "flexion"):
                q = f"ericson_{j}_{a}_share_pct"
                if j == "ankle" and a == "flexion":
                    continue
                why = CLASSIC_WHY.get(f"{j}_{a}", "")
                vals.append(C.ModelValue(S, q, lab_e, act[f"{j}_{a}"], why=why,
                                         headline=(j == "hip")))
        for j, a in (("hip", "extension"), ("hip", "flexion"), ("knee", "extension"), ("knee", "flexion"),
                     ("ankle", "extension")):
            vals.append(C.ModelValue(S, f"ericson_peak_{j}_{a}_power_W", lab_e, peak_action_power_W(e, j, a),
                                     why=CLASSIC_WHY["peak"]))
    elmer = sorted((r for r in data.find(cadence_rpm=ELMER_CADENCE)), key=lambda r: r.labels["power_W"])
    in_range = [r for r in elmer if ELMER_RANGE[0] - 1e-9 <= r.labels["power_W"] <= ELMER_RANGE[1] + 1e-9]
    lab_el = f"free ankle, {ELMER_RANGE[0]:g} -> {ELMER_RANGE[1]:g} W, 90 rpm"
    have_range = (len(in_range) >= 2 and math.isclose(in_range[0].labels["power_W"], ELMER_RANGE[0])
                  and math.isclose(in_range[-1].labels["power_W"], ELMER_RANGE[1]))
    if have_range:
        a0, a1 = action_shares_pct(in_range[0]), action_shares_pct(in_range[-1])
        unsat = [r for r in in_range if max_activation(r) <= 0.99]
        for q, k in (("elmer_knee_extension_share_change_pp", "knee_extension"),
                     ("elmer_knee_flexion_share_change_pp", "knee_flexion"),
                     ("elmer_hip_extension_share_change_pp", "hip_extension")):
            det = f"{k.replace('_', ' ')} {a0[k]:.1f} -> {a1[k]:.1f} %"
            if len(unsat) >= 2 and unsat[-1] is not in_range[-1]:
                au = action_shares_pct(unsat[-1])
                det += (f"; of this, {au[k] - a0[k]:+.1f} pp up to {unsat[-1].labels['power_W']:g} W, the highest "
                        "power without a fully activated muscle (the rest comes with saturation)")
            vals.append(C.ModelValue(S, q, lab_el, a1[k] - a0[k], detail=det, why=CLASSIC_WHY["elmer_trend"],
                                     headline=True))
        margins = []
        for r in in_range:
            a = action_shares_pct(r)
            other = max(v for k, v in a.items() if k != "hip_extension")
            margins.append((a["hip_extension"] - other, r, max(((v, k) for k, v in a.items()
                                                                 if k != "hip_extension"))[1]))
        m, r, k = min(margins, key=lambda t: t[0])
        vals.append(C.ModelValue(S, "elmer_hip_extension_largest_margin_pp", lab_el, m,
                                 detail=f"at {r.labels['power_W']:g} W the largest action is "
                                        f"{k.replace('_', ' ') if m < 0 else 'hip extension'}",
                                 why=CLASSIC_WHY["hip_extension"], headline=True))
    else:
        vals.append(C.ModelValue(S, "elmer_knee_extension_share_change_pp", lab_el, None,
                                 missing=f"the model did not solve both {ELMER_RANGE[0]:g} and {ELMER_RANGE[1]:g} W"))
    header = ["study", "power W", "cadence rpm", "hip ext %", "hip flex %", "knee ext %", "knee flex %",
              "ankle ext %", "ankle flex %", "hip %", "knee %", "ankle %", "max activation", "status"]
    rows = []
    for r in ([e] if e is not None else []) + elmer:
        a, sh = action_shares_pct(r), shares_pct(r)
        rows.append(["Ericson" if r is e else "Elmer", f"{r.labels['power_W']:g}", f"{r.labels['cadence_rpm']:g}",
                     _f(a["hip_extension"]), _f(a["hip_flexion"]), _f(a["knee_extension"]), _f(a["knee_flexion"]),
                     _f(a["ankle_extension"]), _f(a["ankle_flexion"]), _f(sh["hip"]), _f(sh["knee"]),
                     _f(sh["ankle"]), _f(max_activation(r), ".2f"), "solved"])
    for fm in data.failures:
        rows.append(["", str(fm.labels.get("power_W", "")), str(fm.labels.get("cadence_rpm", "")), "", "", "", "",
                     "", "", "", "", "", "", f"{fm.status}: {fm.message}"])
    if e is not None:
        ratio = e.summary.total_positive_joint_work_J / e.summary.crank_work_J
        notes.append(f"At Ericson's 120 W the model's total positive joint work is {ratio:.2f} x the crank work (the rest "
                     "is negative joint work: energy passed between joints, partly by passive muscle force); "
                     "shares are fractions of that total, as in the joint-power studies.")
    solved = [r.labels["power_W"] for r in elmer]
    sat = [r.labels["power_W"] for r in elmer if max_activation(r) > 0.99]
    failed = sorted(float(f.labels.get("power_W", math.nan)) for f in data.failures)
    if solved:
        notes.append(
            f"How far the model goes at 90 rpm: it solved {', '.join(f'{p:g}' for p in solved)} W"
            + (f"; failed at {', '.join(f'{p:g}' for p in failed)} W" if failed else
               f" (every requested power up to {max(solved):g} W, the largest the experiment asks for)")
            + (f". Some muscle reaches full activation from {min(sat):g} W on, so above that the solutions are at "
               "the model's strength limit, not a rider's preferred pattern" if sat else "")
            + ". Elmer et al. also tested maximal efforts, which an effort-minimizing cost at a prescribed power "
              "does not represent.")
    return Evaluation(vals, header, rows, notes)


def _classic_figures(data: StudyData, rows, sdir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    elmer = sorted(data.find(cadence_rpm=ELMER_CADENCE), key=lambda r: r.labels["power_W"])
    fig = Figure(figsize=(8, 4.6), layout="constrained")
    ax = fig.subplots()
    keys = ["hip_extension", "hip_flexion", "knee_extension", "knee_flexion", "ankle_extension"]
    x = [r.labels["power_W"] for r in elmer]
    for k in keys:
        ax.plot(x, [action_shares_pct(r)[k] for r in elmer], "-o", ms=4, label=k.replace("_", " "))
    pub = C.published_index(C.load_published())
    e = data.one(power_W=ERICSON[0], cadence_rpm=ERICSON[1])
    for i, k in enumerate(keys):
        p = pub.get(("classic", f"ericson_{k}_share_pct"))
        if p is not None:
            ax.plot([ERICSON[0]], [p.numeric], marker="s", mfc="none", color=f"C{i}", ms=9, ls="none")
        if e is not None:
            ax.plot([ERICSON[0]], [action_shares_pct(e)[k]], marker="o", color=f"C{i}", ms=6, ls="none")
    ax.axvspan(*ELMER_RANGE, color="0.93", zorder=0)
    ax.set_xlabel("work rate, both legs (W)")
    ax.set_ylabel("share of positive joint work (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    ax.set_title("Joint actions: model at 120 W/60 rpm (dots) vs Ericson 1986 (open squares),\nand the model's "
                 "90 rpm sweep (lines; grey: Elmer et al. 2011 range 250-850 W)", fontsize="small")
    return [_save(fig, sdir / "joint_actions.png")]


# ----------------------------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------------------------

STUDIES: dict[str, StudyDef] = {s.name: s for s in (
    StudyDef(
        "heel_drop", "Heel drop (claims A and E)", "A, E",
        "Does dropping the heel in the downstroke open the hip angle at the same saddle height and shift work from "
        "the knee to the hip?",
        (Variant("study_heel_drop.toml", "same saddle; fit-compensated saddles",
                 quick=("conditions.ankle=[\"free\", \"heel_drop\"]", "conditions.heel_drop_deg=[5, 20]")),),
        _eval_heel, select=_heel_select,
        select_doc="the default fit with every condition; each `comp_heel_drop<d>` fit with heel drop d only",
        figures=_heel_figures, extras=_heel_extras),
    StudyDef(
        "lactate_threshold", "High vs low lactate threshold (claim B)", "B",
        "Does a high-LT rider keep knee power flat and use relatively more hip power at high intensity?",
        (Variant("study_lactate_threshold.toml", "baseline: profiles differ only in LT",
                 quick=("intensity.values=[50, 90]",)),
         Variant("study_lactate_threshold_knee_sparing.toml",
                 "hypothesis H1: knee-extensor sparing (cost weight 2 on VAS and RF)",
                 quick=("intensity.values=[50, 90]",)),
         Variant("study_lactate_threshold_hip_strength.toml",
                 "hypothesis H2: stronger hip extensors (GMAX, HAMS max force x1.25)",
                 quick=("intensity.values=[50, 90]",))),
        _eval_lt, figures=_lt_figures),
    StudyDef(
        "trunk_angle", "Trunk angle (claim C)", "C",
        "Does changing the hip angle by +-10 deg through the trunk change the relative work of hip and knee?",
        (Variant("study_trunk_angle.toml", "trunk +-10 deg"),),
        _eval_trunk, figures=_trunk_figures),
    StudyDef(
        "recumbent", "Recumbent, ankle fixed (claim D)", "D",
        "With the ankle immobilized on a recumbent at well under 100 W, do hip and knee generate about equal power?",
        (Variant("study_recumbent.toml", "recumbent vs upright, fixed ankle",
                 quick=("intensity.values=[50]",)),),
        _eval_recumbent, figures=_recumbent_figures),
    StudyDef(
        "classic", "Joint-specific power: Ericson 1986 and Elmer et al. 2011", "Ericson, Elmer",
        "Does the model's split of positive joint work match the classic inverse-dynamics studies?",
        (Variant("study_classic.toml", "free ankle",
                 quick=("intensity.values=[120, 250, 850]",)),),
        _eval_classic, select=_classic_select,
        select_doc="120 W at 60 rpm (Ericson) and every power >= 250 W at 90 rpm (Elmer); the other cadence-power "
                   "combinations of the file's sweep are not solved",
        figures=_classic_figures),
)}
STUDY_NAMES = tuple(STUDIES)


# ----------------------------------------------------------------------------------------------------------
# Figures and markdown
# ----------------------------------------------------------------------------------------------------------

def comparison_figure(rows: Sequence[C.ComparisonRow], title: str):
    """One panel per unit: each comparison row's model value (filled: green agrees, red does not, grey n/a),
    the published number (open diamond, when numeric) and the band of values that would agree."""
    from matplotlib.figure import Figure

    rows = [r for r in rows if r.published is not None]
    units = []
    for r in rows:
        if r.unit not in units:
            units.append(r.unit)
    n = max(1, len(rows))
    fig = Figure(figsize=(10, 1.2 + 0.34 * n + 0.6 * len(units)), layout="constrained")
    if not rows:
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no comparisons", ha="center")
        return fig
    axes = fig.subplots(len(units), 1, squeeze=False, height_ratios=[
        max(1, sum(1 for r in rows if r.unit == u)) for u in units])[:, 0]
    pub = C.published_index(C.load_published())
    for ax, u in zip(axes, units):
        rs = [r for r in rows if r.unit == u]
        finite = [x for r in rs for x in ((r.model,) if r.model is not None else ())
                  + ((r.published,) if isinstance(r.published, float) else ())]
        for r in rs:
            p = pub.get((r.study, r.quantity))
            if p is not None:
                for lo, hi in C.agree_regions(p.criterion, p.value):
                    finite += [x for x in (lo, hi) if math.isfinite(x)]
        lo_x = min(finite + [0.0])
        hi_x = max(finite + [0.0])
        pad = 0.08 * (hi_x - lo_x or 1.0)
        lo_x, hi_x = lo_x - pad, hi_x + pad
        for i, r in enumerate(rs):
            y = len(rs) - 1 - i
            p = pub.get((r.study, r.quantity))
            if p is not None:
                for a, b in C.agree_regions(p.criterion, p.value):
                    a, b = max(a, lo_x), min(b, hi_x)
                    if a < b:
                        ax.barh(y, b - a, left=a, height=0.6, color="tab:green", alpha=0.15, lw=0)
            if isinstance(r.published, float):
                ax.plot(r.published, y, "D", mfc="none", color="k", ms=7)
            if r.model is not None:
                color = {True: "tab:green", False: "tab:red", None: "0.5"}[r.agrees]
                ax.plot(r.model, y, "o", color=color, ms=7)
            else:
                why = r.reason if len(r.reason) <= 70 else (r.reason.split(":")[0] + "; "
                                                             + r.reason.rsplit(";", 1)[-1].strip())
                ax.text(lo_x, y, "  no model value (" + why + ")", va="center", fontsize="x-small", color="0.4")
        ax.set_yticks(range(len(rs)), [f"{r.quantity}\n{r.label}"[:90] for r in reversed(rs)],
                      fontsize="x-small")
        ax.set_xlim(lo_x, hi_x)
        ax.set_ylim(-0.7, len(rs) - 0.3)
        ax.set_xlabel(u if u not in ("", "-") else "ratio", fontsize="small")
        ax.grid(True, axis="x", alpha=0.3)
    fig.suptitle(title + "\nmodel: filled dot (green agrees, red does not); published: open diamond; "
                 "green band: values that would agree", fontsize="small")
    return fig


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "(none)\n"
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _run_info(out: str | os.PathLike) -> dict:
    p = Path(out) / RUN_INFO
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def render_study_markdown(name: str, out: str | os.PathLike = "results", data: StudyData | None = None) -> str:
    """OUT/<name>/comparison.md from the stored results only."""
    study = STUDIES[name]
    data = data if data is not None else load_study_data(name, out)
    ev = study.evaluate(data)
    rows = C.compare(ev.values, C.load_published())
    L = [f"# {study.title}", "", f"Question: {study.question}", ""]
    L.append("Generated by `python -m toolkit reproduce " + name + "` from the HDF5 file(s) in this directory; do "
             "not edit by hand.")
    L.append("")
    L.append("Experiment file(s): " + ", ".join(f"`experiments/{v.file}` ({v.label})" for v in study.variants)
             + ".")
    if study.select_doc:
        L.append(f"Points solved: {study.select_doc}.")
    L.append("")
    L.append("## Model vs published")
    L.append("")
    L.append(C.rows_markdown(rows))
    agree = sum(1 for r in rows if r.agrees is True)
    dis = sum(1 for r in rows if r.agrees is False)
    na = sum(1 for r in rows if r.agrees is None)
    L.append(f"{agree} agree, {dis} disagree, {na} without a model value or published value. Criteria are the "
             "toolkit's reading of each claim (toolkit/study/data/published.csv), stated in every row.")
    L.append("")
    if ev.notes:
        L.append("## Notes")
        L.append("")
        for n in ev.notes:
            L.append(n if n.startswith("- ") else f"- {n}")
        L.append("")
    if data.warnings:
        L.append("## Config warnings (from load_experiment)")
        L.append("")
        for w in sorted(set(data.warnings)):
            L.append(f"- {w}")
        L.append("")
    if ev.extra_md:
        L.append(ev.extra_md)
    L.append("## Model points")
    L.append("")
    L.append("Shares: % of the total positive joint work (hip + knee + ankle). Powers: mean positive joint power "
             "over the cycle, both legs.")
    L.append("")
    L.append(_md_table(ev.table_header, ev.table_rows))
    pubs = [p for p in C.load_published() if p.study == name]
    if pubs:
        L.append("## Published values used")
        L.append("")
        L.append(_md_table(["claim", "quantity", "value", "unit", "source", "note"],
                           [[p.claim, f"`{p.quantity}`", C.format_value(p.value), p.unit, p.source, p.note]
                            for p in pubs]))
    return "\n".join(L).rstrip() + "\n"


def render_readme(out: str | os.PathLike = "results") -> str:
    """OUT/README.md: the index and the headline table, from the stored results (and run_info.json)."""
    info = _run_info(out)
    L = ["# Study reproductions: model vs published", "",
         "Generated by `python -m toolkit reproduce --all` (see docs/studies.md); do not edit by hand. Every number "
         "below is computed from the HDF5 files in the study directories, and `tests/test_studies.py` checks that "
         "this file equals what those files give.", ""]
    runs = info.get("studies", {})
    if info:
        L.append(f"Last full run: `{info.get('command', 'python -m toolkit reproduce')}` with {info.get('jobs', 1)} "
                 f"job(s), {info.get('total_runtime_s', 0):.0f} s wall time; mesh "
                 f"{', '.join(str(n) for n in info.get('nodes', [])) or '?'} nodes.")
        L.append("")
    L.append("| study | claims | question | points | infeasible/failed | run time (s) | details |")
    L.append("|---|---|---|---|---|---|---|")
    all_rows: list[C.ComparisonRow] = []
    published = C.load_published()
    for name, study in STUDIES.items():
        sdir = Path(out) / name
        if not any(sdir.glob("*.h5")):
            L.append(f"| {study.title} | {study.claims} | {study.question} | not run | | | |")
            continue
        data = load_study_data(name, out)
        rows = study_rows(data, published)
        all_rows += rows
        r = runs.get(name, {})
        L.append(f"| {study.title} | {study.claims} | {study.question} | {len(data.records)} | {len(data.failures)} "
                 f"| {r.get('runtime_s', '-')} | [{name}/comparison.md]({name}/comparison.md) |")
    L.append("")
    L.append("## Headline: model vs published")
    L.append("")
    L.append("'agrees' applies the stated criterion (the toolkit's reading of the claim, fixed in "
             "toolkit/study/data/published.csv). Where the model disagrees, the last column says why it might. "
             "No model parameter was adjusted toward a published number.")
    L.append("")
    head = [r for r in all_rows if r.headline]
    L.append("| study | claim | quantity | model condition | model | published | criterion | agrees | why it "
             "might not agree |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for r in head:
        model = C.format_value(r.model, r.unit) if r.model is not None else "- (" + r.reason + ")"
        pub = C.format_value(r.published, r.unit if isinstance(r.published, float) else "")
        L.append("| " + " | ".join(str(c).replace("|", "\\|") for c in (
            r.study, r.claim, f"`{r.quantity}`", r.label, model, pub, r.criterion, C.agreement_text(r.agrees),
            r.why if r.agrees is False else "")) + " |")
    L.append("")
    agree = sum(1 for r in all_rows if r.agrees is True)
    dis = sum(1 for r in all_rows if r.agrees is False)
    L.append(f"All comparison rows: {agree} agree, {dis} disagree, "
             f"{sum(1 for r in all_rows if r.agrees is None)} n/a (infeasible points, model-only rows). "
             "The study pages list every row, the notes and the model points.")
    L.append("")
    L.append("## Where the model disagrees")
    L.append("")
    dis_rows = [r for r in all_rows if r.agrees is False]
    if not dis_rows:
        L.append("Nowhere, by the stated criteria.")
    for r in dis_rows:
        L.append(f"- {r.study} / `{r.quantity}` ({r.label}): model {C.format_value(r.model, r.unit)} vs published "
                 f"{C.format_value(r.published, r.unit if isinstance(r.published, float) else '')} ({r.reason})."
                 + (f" Why it may differ: {r.why}." if r.why else ""))
    L.append("")
    L.append("## Files")
    L.append("")
    L.append("Each study directory holds `<experiment>.h5` (one per experiment file; failed or infeasible solves "
             "only under /failures), `comparison.md`, `comparison.png` (model vs published with the agreement "
             "bands) and a few model figures. Inspect a file with `python -m toolkit show FILE.h5`.")
    return "\n".join(L).rstrip() + "\n"


# ----------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------

def _run_one(args) -> tuple[str, dict]:
    name, out, quick = args
    return name, reproduce_study(name, out, quick=quick)


def reproduce_main(studies: list[str], all_studies: bool = False, out: str = "results", jobs: int = 1,
                   quick: bool = False) -> int:
    """`python -m toolkit reproduce [STUDY ... | --all] [--out DIR] [--jobs N]`.

    Exit codes: 0 the studies ran and their files were written (infeasible or failed points are part of the
    results: reported in the tables and stored under /failures); 2 bad input (unknown study, bad experiment file).
    jobs > 1 runs several studies at once in separate processes."""
    names = list(STUDY_NAMES) if all_studies else list(dict.fromkeys(studies))
    if not names:
        print(f"-: studies: none given (allowed: {', '.join(STUDY_NAMES)}, or --all)", file=sys.stderr)
        return 2
    bad = [n for n in names if n not in STUDIES]
    if bad:
        for n in bad:
            print(f"-: studies: unknown study {n!r} (allowed: {', '.join(STUDY_NAMES)})", file=sys.stderr)
        return 2
    problems = []
    for n in names:
        for v in STUDIES[n].variants:
            try:
                load_experiment(experiments_dir() / v.file, check_fit=False)
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
    if jobs == 1 or len(names) == 1:
        for n in names:
            print(f"reproduce: {n} ...", file=sys.stderr, flush=True)
            results[n] = reproduce_study(n, outp, quick=quick)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(names))) as ex:
            for n, info in ex.map(_run_one, [(n, str(outp), quick) for n in names]):
                results[n] = info
    total = time.perf_counter() - t0
    info = _run_info(outp)
    info.setdefault("studies", {}).update(results)
    info["studies"] = {k: info["studies"][k] for k in STUDY_NAMES if k in info["studies"]}
    if all_studies:
        info["command"] = "python -m toolkit reproduce --all" + (f" --jobs {jobs}" if jobs > 1 else "")
        info["total_runtime_s"] = round(total, 1)
        info["jobs"] = jobs
    else:
        info.setdefault("command", "python -m toolkit reproduce " + " ".join(names))
        info.setdefault("total_runtime_s", round(total, 1))
        info.setdefault("jobs", jobs)
    info["nodes"] = sorted({n for r in info["studies"].values() for n in r.get("nodes", [])})
    (outp / RUN_INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    (outp / "README.md").write_text(render_readme(outp), encoding="utf-8")
    for n in names:
        r = results[n]
        print(f"{n}: {r['points']} point(s) solved, {r['failures']} infeasible/failed, {r['runtime_s']:.1f} s -> "
              f"{outp / n / 'comparison.md'}")
    print(f"reproduce: {len(names)} stud{'y' if len(names) == 1 else 'ies'} in {total:.1f} s; index "
          f"{outp / 'README.md'}")
    return 0


# ----------------------------------------------------------------------------------------------------------
# Fit compensation for the heel-drop study (run once; the numbers live in experiments/study_heel_drop.toml)
# ----------------------------------------------------------------------------------------------------------

def compensated_saddle_height(solver, rider, base_fit, drop_deg: float, spec_kw: Mapping[str, Any],
                              target_knee_bdc_deg: float, tol_deg: float = 0.02, max_iter: int = 12
                              ) -> tuple[float | None, str]:
    """Saddle height (m) at which the *solved* heel-drop motion has the knee flexion at BDC of the free ankle
    at the base fit (secant iteration on the height, warm-started). Returns (height, message); height None when
    a trial height makes the drop infeasible or a solve fails."""
    from dataclasses import replace

    from ..model.leg import make_setup
    from ..ocp.problem import ProblemSpec

    h0 = make_setup(solver.model, rider, base_fit).saddle_height_m
    guess = None

    def knee(h):
        nonlocal guess
        fit = replace(base_fit, saddle_rule="absolute", saddle_height_m=h, knee_flexion_at_bdc_deg=None,
                      ankle_at_bdc_deg=None)
        sol = solver.solve(make_setup(solver.model, rider, fit),
                           ProblemSpec(condition="heel_drop", heel_drop_deg=drop_deg, **spec_kw), guess=guess)
        if not sol.success:
            return None, sol.stats.message or sol.stats.status
        guess = sol
        return knee_at_bdc_deg(sol) - target_knee_bdc_deg, ""

    a, (fa, msg) = h0, knee(h0)
    if fa is None:
        return None, msg
    b = h0 - 0.005
    fb, msg = knee(b)
    for _ in range(max_iter):
        if fb is None:
            return None, msg
        if abs(fb) < tol_deg:
            return b, f"knee at BDC within {tol_deg} deg of the target"
        c = b - fb * (b - a) / (fb - fa) if fb != fa else b - 0.002
        a, fa = b, fb
        b = c
        fb, msg = knee(b)
    return (b, "not converged") if fb is not None and abs(fb) < 0.5 else (None, "not converged")


def _compensation_main(drops: Iterable[float] = (0.0, 5.0, 10.0)) -> int:
    from ..model.leg import make_setup
    from ..ocp.problem import ProblemSpec
    from ..ocp.solve import PedalingSolver

    exp = load_experiment(experiments_dir() / "study_heel_drop.toml")
    rider = exp.riders[0]
    base = dict(exp.fits)[HEEL_DROP_BASE_FIT]
    solver = PedalingSolver()
    P, cad = exp.intensity.values[0], exp.intensity.cadence_rpm[0]
    spec_kw = dict(power_W=P, cadence_rpm=cad, heel_drop_window_deg=exp.conditions.heel_drop_window_deg,
                   cost=exp.cost, solver=exp.solver)
    free = solver.solve(make_setup(solver.model, rider, base), ProblemSpec(condition="free", power_W=P,
                                                                           cadence_rpm=cad, cost=exp.cost,
                                                                           solver=exp.solver))
    target = knee_at_bdc_deg(free)
    print(f"# target: knee flexion at BDC of the free ankle at the default fit = {target:.3f} deg")
    for d in drops:
        h, msg = compensated_saddle_height(solver, rider, base, d, spec_kw, target)
        print(f"# heel drop {d:g} deg: " + (f"saddle_height_m = {h:.5f}" if h is not None else "none") + f" ({msg})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    if "--compensation" in sys.argv[1:]:
        raise SystemExit(_compensation_main())
    _args = sys.argv[1:]
    raise SystemExit(reproduce_main([a for a in _args if not a.startswith("--")], all_studies="--all" in _args))
