"""Named model variants solved side by side (model_changes.md of the model check).

The variant list is data: toolkit/check/data/model_changes.toml (label, reason, citation, and keyword overrides
for Rider, BikeFit, ProblemSpec and CostSpec), plus the conditions to solve them at. `solve_variants` solves the
current default model and every variant with the same mesh and number of starts; `variants_table` tabulates the
report's key quantities; `write_model_changes` writes the markdown page.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..analysis.summary import ACTION_KEYS, multistart_spread
from ..model.leg import JOINTS
from .metrics import solution_metrics

SECTIONS = ("rider", "fit", "problem", "cost")
RESERVED_PROBLEM = ("condition", "power_W", "cadence_rpm", "solver", "cost")


@dataclass(frozen=True)
class Variant:
    label: str
    reason: str
    citation: str
    rider: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    problem: dict = field(default_factory=dict)
    cost: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelChanges:
    variants: list
    conditions: list  # (power_W, cadence_rpm, ankle)


def load_model_changes(path: str | Path | None = None) -> ModelChanges:
    """Read and check the variant file (default: the packaged model_changes.toml). Errors name the entry and key."""
    name = str(path) if path else "model_changes.toml"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else \
            resources.files("toolkit.check.data").joinpath("model_changes.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{name}: {e}") from None
    unknown = set(data) - {"variant", "condition"}
    if unknown:
        raise ValueError(f"{name}: unknown top-level keys {sorted(unknown)} (allowed: [[variant]] and [[condition]] "
                         "tables)")
    variants = []
    for i, v in enumerate(data.get("variant", [])):
        where = f"{name}: variant[{i}]"
        for k in ("label", "reason", "citation"):
            if not isinstance(v.get(k), str) or not v[k].strip():
                raise ValueError(f"{where}: {k}: missing (a non-empty text is required)")
        bad = set(v) - {"label", "reason", "citation", *SECTIONS}
        if bad:
            raise ValueError(f"{where}: unknown keys {sorted(bad)} (allowed: label, reason, citation, "
                             f"{', '.join(SECTIONS)})")
        if set(v.get("problem", {})) & set(RESERVED_PROBLEM):
            raise ValueError(f"{where}: problem: {sorted(set(v['problem']) & set(RESERVED_PROBLEM))} are set by "
                             "the conditions and the check (allowed: other ProblemSpec fields)")
        variants.append(Variant(v["label"], v["reason"], v["citation"], **{s: dict(v.get(s, {})) for s in SECTIONS}))
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{name}: variant labels must be unique")
    conds = [(float(c["power_W"]), float(c["cadence_rpm"]), str(c.get("ankle", "free")))
             for c in data.get("condition", [{"power_W": 200.0, "cadence_rpm": 90.0}])]
    return ModelChanges(variants, conds)


def solve_variant(variant: Variant | None, solver, condition, nodes: int, multistart: int):
    """One variant (None = the current defaults) at one (power_W, cadence_rpm, ankle) condition."""
    from ..model.anthropometry import Rider
    from ..model.bikefit import BikeFit
    from ..model.leg import make_setup
    from ..ocp.problem import CostSpec, ProblemSpec, SolverSpec

    v = variant or Variant("default", "", "")
    setup = make_setup(solver.model, Rider(**v.rider), BikeFit(**v.fit))
    p, c, ankle = condition
    spec = ProblemSpec(condition=ankle, power_W=p, cadence_rpm=c, cost=CostSpec(**v.cost),
                       solver=SolverSpec(nodes=nodes, multistart=multistart), **v.problem)
    return solver.solve(setup, spec)


def solve_variants(changes: ModelChanges, solver, nodes: int = 40, multistart: int = 3) -> dict:
    """{(label, condition): Solution} for the current default model ('default') and every variant."""
    out = {}
    for cond in changes.conditions:
        for v in [None, *changes.variants]:
            out[(v.label if v else "default", cond)] = solve_variant(v, solver, cond, nodes, multistart)
    return {"changes": changes, "solutions": out, "nodes": nodes, "multistart": multistart}


KEY_QUANTITIES = (
    ("peak pedal force (N)", "peak_resultant_pedal_force_N"),
    ("  at crank angle (deg)", "peak_resultant_pedal_force_angle_deg"),
    ("index of effectiveness", "index_of_effectiveness"),
    ("sole angle min (deg)", "sole_angle_min_deg"),
    ("sole angle max (deg)", "sole_angle_max_deg"),
    ("peak hip extensor moment (N m)", "peak_hip_extension_moment_Nm"),
    ("peak knee extensor moment (N m)", "peak_knee_extension_moment_Nm"),
    ("  at crank angle (deg)", "peak_knee_extension_moment_angle_deg"),
    ("peak knee flexor moment (N m)", "peak_knee_flexion_moment_Nm"),
    *((f"{j} share (%)", f"share_{j}_pct") for j in JOINTS),
    *((f"{a} (% of positive work)", f"share_{a}_pct") for a in ACTION_KEYS),
)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def variants_table(result: dict) -> dict:
    """{condition: (labels, rows)} with rows = [quantity label, value per variant]; shares carry +- half the
    multi-start spread (pp)."""
    sols = result["solutions"]
    tables = {}
    for cond in result["changes"].conditions:
        labels = [lab for (lab, c) in sols if c == cond]
        cols = {}
        for lab in labels:
            s = sols[(lab, cond)]
            cols[lab] = (solution_metrics(s), multistart_spread(s)) if s.success else (None, {})
        rows = []
        for name, key in KEY_QUANTITIES:
            cells = [name]
            for lab in labels:
                m, sp = cols[lab]
                if m is None:
                    cells.append(f"failed ({sols[(lab, cond)].stats.status})")
                    continue
                txt = _fmt(m.get(key))
                j = key[len("share_"):-len("_pct")] if key.startswith("share_") else None
                if j in sp:
                    txt += f" +- {sp[j] / 2:.1f}"
                cells.append(txt)
            rows.append(cells)
        tables[cond] = (labels, rows)
    return tables


def write_model_changes(result: dict, path: Path) -> Path:
    changes = result["changes"]
    lines = ["# Model changes: key quantities side by side", "",
             f"Each column is solved with {result['nodes']} nodes and {result['multistart']} starts (as the main "
             "report); shares show +- half the spread over starts within 0.5 % of the best cost. 'default' is the "
             "toolkit's current default model. Variants come from `toolkit/check/data/model_changes.toml`.", "",
             "| variant | reason | citation |", "|---|---|---|"]
    lines += [f"| {v.label} | {v.reason} | {v.citation} |" for v in changes.variants]
    for cond, (labels, rows) in variants_table(result).items():
        p, c, ankle = cond
        lines += ["", f"## {p:g} W, {c:g} rpm, {ankle} ankle", "",
                  "| quantity | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
