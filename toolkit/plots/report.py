"""Write the standard figures of one point or of a whole experiment as PNG files.

save_point_figures(sol, outdir, stem): joint power, activations vs EMG ranges, muscle fibre power, pedal
force / crank torque and the stick figure of one solution (optionally an animated GIF).
save_experiment_figures(solutions, labels, outdir): the comparisons across points: joint power per work rate
with conditions/riders overlaid, joint shares vs work rate (or bars when there is one work rate), activations
per work rate.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

from . import figures as F

DPI = 110
# Label fields that describe the work rate (the x axis of share plots), not the line a point belongs to.
WORK_RATE_FIELDS = ("power_W", "power", "work_rate", "work_rate_W", "intensity", "intensity_level", "level",
                    "pct_vo2max", "percent_vo2max", "pct_map", "pct_lt", "intensity_value", "intensity_unit")
MAX_OVERLAY = 8


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", str(text)).strip("._") or "x"


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def save_point_figures(sol, outdir, stem: str, animate: bool = False) -> list[Path]:
    """PNG figures of one solution: <stem>_joint_power, _activation, _muscle_power, _pedal, _stick (and
    <stem>_stick.gif when animate and pillow is installed). Returns the written paths."""
    out = Path(outdir)
    stem = _safe(stem)
    label = F.describe(sol)
    items = {label: sol}
    paths = [
        _save(F.joint_power_figure(items), out / f"{stem}_joint_power.png"),
        _save(F.activation_figure(items), out / f"{stem}_activation.png"),
        _save(F.muscle_power_figure(items), out / f"{stem}_muscle_power.png"),
        _save(F.pedal_force_figure(items), out / f"{stem}_pedal.png"),
        _save(F.stick_figure(sol), out / f"{stem}_stick.png"),
    ]
    if animate:
        gif = F.animate_stick(sol, out / f"{stem}_stick.gif")
        if gif is not None:
            paths.append(gif)
    return paths


def point_label(key: str, sol, labels: Mapping[str, Any] | None, varying: set[str] | None = None,
                skip: tuple[str, ...] = ()) -> str:
    """Legend label of a point: its label fields that vary across the experiment (minus `skip`), else the
    condition; falls back to the key."""
    labels = dict(labels or {})
    keys = [k for k in labels if (varying is None or k in varying) and k not in skip]
    if keys:
        return ", ".join(f"{labels[k]}" if k in ("condition", "rider", "name") else f"{k}={labels[k]}" for k in keys)
    return sol.spec.condition if sol is not None else key


def save_experiment_figures(solutions: Mapping[str, Any], labels: Mapping[str, Mapping[str, Any]] | None,
                            outdir) -> list[Path]:
    """Comparison figures of an experiment. solutions: key -> Solution (successful ones); labels: key -> the
    point's label fields (e.g. condition, rider, intensity), or None (the condition is used)."""
    out = Path(outdir)
    labels = {k: dict((labels or {}).get(k) or {"condition": s.spec.condition}) for k, s in solutions.items()}
    if not solutions:
        return []
    fields = {f for lab in labels.values() for f in lab}
    varying = {f for f in fields if len({repr(lab.get(f)) for lab in labels.values()}) > 1}
    if not varying:
        varying = {"condition"} & fields or set(fields)
    paths: list[Path] = []

    # Points by work rate: joint power and activations with the lines (conditions, riders, ...) overlaid.
    by_power: dict[float, list[str]] = defaultdict(list)
    for k, s in solutions.items():
        by_power[float(s.spec.power_W)].append(k)
    for power, keys in sorted(by_power.items()):
        items = {}
        for k in keys[:MAX_OVERLAY]:
            lab = point_label(k, solutions[k], labels[k], varying, skip=WORK_RATE_FIELDS)
            items[lab if lab not in items else f"{lab} [{k}]"] = solutions[k]
        tag = f"{power:g}W"
        paths.append(_save(F.joint_power_figure(items, title=f"Joint power over the crank cycle at {power:g} W"),
                           out / f"joint_power_{tag}.png"))
        paths.append(_save(F.activation_figure(items, title=None), out / f"activation_{tag}.png"))
        paths.append(_save(F.pedal_force_figure(items, title=f"Pedal force and crank torque at {power:g} W"),
                           out / f"pedal_{tag}.png"))
        if len(items) > 1:
            paths.append(_save(F.joint_shares_bar_figure(items, title=f"Joint shares at {power:g} W"),
                               out / f"joint_shares_{tag}.png"))

    # Lines across work rates: shares vs work rate.
    groups: dict[str, list] = defaultdict(list)
    for k, s in solutions.items():
        groups[point_label(k, s, labels[k], varying, skip=WORK_RATE_FIELDS)].append(s)
    if len(by_power) > 1:
        paths.append(_save(F.joint_shares_figure(groups), out / "joint_shares_vs_work_rate.png"))
    return paths
