"""The model check: solve the canonical conditions, compare with cited reference data, write one page.

`python -m toolkit check-model [--out DIR] [--nodes N] [--multistart K]` calls `check_model_main`. It solves
120 W / 60 rpm, 200 W / 90 rpm and 300 W / 90 rpm with the ankle free and fixed, plus the condition of the Park et
al. (2022) measured data (its own cadence and power, free ankle), for the default rider and fit, every one with K
deterministic starts. Each reference row (toolkit/check/data/reference_values.csv) is evaluated with its own,
pre-set criterion (toolkit.check.reference.verdict) on the best-cost solution; the spread of the model value over
all starts within 0.5 % of the best cost is shown beside it. Outputs in DIR: README.md (the page),
model_check.csv (the rows), figures/*.png, and model_changes.md (toolkit.check.variants).
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.summary import multistart_spread
from .conditions import ANKLES, CANONICAL, PARK, condition_key, conditions, work_tables  # noqa: F401 (re-exported)
from .metrics import park_metrics, solution_metrics
from .reference import AGREES, DOES_NOT, NO_DATA, ReferenceRow, load_park2022, load_reference_rows, verdict

CSV_FIELDS = ("id", "quantity", "condition", "model_value", "multistart_spread", "reference", "unit", "criterion",
              "verdict", "citation_key", "citation", "source_condition", "derivation")


@dataclass
class CheckResult:
    """Solutions, metrics and evaluated rows of one model check."""

    solutions: dict
    metrics: dict
    spreads: dict
    rows: list[dict]
    nodes: int
    multistart: int
    files: list[Path] = field(default_factory=list)
    diagnostics: object = None  # toolkit.check.diagnostics.Diagnostics when computed

    def counts(self) -> dict[str, int]:
        c = {AGREES: 0, DOES_NOT: 0, NO_DATA: 0}
        for r in self.rows:
            c[r["verdict"]] += 1
        return c


def default_setup(model, rider=None, fit=None):
    from ..model.anthropometry import Rider
    from ..model.bikefit import BikeFit
    from ..model.leg import make_setup

    return make_setup(model, rider or Rider(), fit or BikeFit())


def solve_conditions(solver, setup, nodes: int, multistart: int, keys=None, problem_kw=None, cost=None) -> dict:
    """Solve the named conditions (default: all) with `multistart` starts each; returns key -> Solution."""
    from ..ocp.problem import CostSpec, ProblemSpec, SolverSpec

    out = {}
    for key, (p, c, ankle) in conditions().items():
        if keys is not None and key not in keys:
            continue
        spec = ProblemSpec(condition=ankle, power_W=p, cadence_rpm=c, cost=cost or CostSpec(),
                           solver=SolverSpec(nodes=nodes, multistart=multistart), **(problem_kw or {}))
        out[key] = solver.solve(setup, spec)
    return out


def _numeric(d: dict) -> dict:
    return {k: v for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
            and v is not None and math.isfinite(v)}


def evaluate(solutions: dict, rows: list[ReferenceRow] | None = None) -> tuple[dict, dict, list[dict]]:
    """Metrics and multi-start spreads per condition, and every reference row with its model value and verdict."""
    park = load_park2022()
    metrics, spreads = {}, {}
    for key, sol in solutions.items():
        if not sol.success:
            continue

        def all_metrics(s, key=key):
            m = solution_metrics(s)
            if key == PARK:
                m.update(park_metrics(s, park))
            return m

        metrics[key] = all_metrics(sol)
        spreads[key] = multistart_spread(sol, lambda s: _numeric(all_metrics(s)))
    a, b = metrics.get("300W_90rpm_free"), metrics.get("200W_90rpm_free")
    if a is not None and b is not None:
        a["ie_change_200_to_300W"] = a["index_of_effectiveness"] - b["index_of_effectiveness"]
        for act in ("knee_extension", "knee_flexion", "hip_extension"):
            a[f"{act}_share_change_200_to_300W_pp"] = a[f"share_{act}_pct"] - b[f"share_{act}_pct"]
    out = []
    for r in rows if rows is not None else load_reference_rows():
        m = metrics.get(r.condition)
        value = None if m is None else m.get(r.quantity)
        note = ""
        if r.condition not in solutions:
            note = "condition not solved"
        elif m is None:
            note = f"solve failed ({solutions[r.condition].stats.status})"
        spread = spreads.get(r.condition, {}).get(r.quantity)
        out.append({
            "id": r.id, "quantity": r.quantity, "condition": r.condition, "model_value": value,
            "multistart_spread": spread, "reference": r.reference_text(), "unit": r.unit,
            "criterion": r.criterion_text(), "verdict": verdict(r, value), "citation_key": r.citation_key,
            "citation": r.citation, "source_condition": _source_condition(r),
            "derivation": r.derivation + (f" [{note}]" if note else "")})
    return metrics, spreads, out


def _source_condition(r: ReferenceRow) -> str:
    parts = []
    if r.ref_power_W:
        parts.append(f"{r.ref_power_W} W")
    if r.ref_cadence_rpm:
        parts.append(f"{r.ref_cadence_rpm} rpm")
    return ", ".join(parts) or "not stated"


def write_csv(rows: list[dict], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in CSV_FIELDS})
    return path


def check_model(out, nodes: int = 40, multistart: int = 3, variants: bool = True, solver=None,
                progress=print, changes_file=None, keys=None) -> CheckResult:
    """Run the whole check and write DIR/README.md, model_check.csv, figures/ and (unless variants=False)
    model_changes.md (variants from `changes_file`, default the packaged model_changes.toml). `keys` limits the
    solved conditions (default all; rows of unsolved conditions say 'no data'). Returns the CheckResult."""
    from ..ocp.solve import PedalingSolver
    from .page import write_page

    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    solver = solver or PedalingSolver()
    setup = default_setup(solver.model)
    n = len(conditions()) if keys is None else len(keys)
    progress(f"check-model: solving {n} conditions ({nodes} nodes, {multistart} starts each)")
    sols = solve_conditions(solver, setup, nodes, multistart, keys=keys)
    for k, s in sols.items():
        progress(f"  {k}: {s.stats.summary()}")
    metrics, spreads, rows = evaluate(sols)
    res = CheckResult(sols, metrics, spreads, rows, nodes, multistart)
    res.files.append(write_csv(rows, out / "model_check.csv"))
    changes = None
    if variants:
        from .variants import load_model_changes, solve_variants, write_model_changes

        progress("check-model: solving the model-change variants")
        changes = solve_variants(load_model_changes(changes_file), solver, nodes=nodes, multistart=multistart)
        res.files.append(write_model_changes(changes, out / "model_changes.md"))
    from .diagnostics import Diagnostics, measured_posture_cost, upstroke_sources

    progress("check-model: diagnostics (pedal-force sources, measured foot posture)")
    res.diagnostics = Diagnostics(upstroke_sources(sols, solver.model),
                                  measured_posture_cost(solver, setup, sols, nodes))
    res.files.extend(write_page(res, out, setup, changes))
    return res


def check_model_main(out: str = "results/model_check", nodes: int = 40, multistart: int = 3,
                     variants: bool = True) -> int:
    """CLI entry: 0 when every condition solved, 1 when any failed (the page still reports it), 2 on bad input."""
    import sys

    from ..ocp.problem import SolverSpec

    try:
        SolverSpec(nodes=nodes, multistart=multistart)
    except ValueError as e:
        print(f"-: {e}", file=sys.stderr)
        return 2
    res = check_model(out, nodes=nodes, multistart=multistart, variants=variants)
    c = res.counts()
    print(f"check-model: {c[AGREES]} agree, {c[DOES_NOT]} do not, {c[NO_DATA]} no data; wrote "
          f"{Path(out) / 'README.md'}")
    return 0 if all(s.success for s in res.solutions.values()) else 1


__all__ = ["check_model", "check_model_main", "conditions", "evaluate", "solve_conditions", "work_tables"]
