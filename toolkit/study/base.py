"""Shared pieces of the study reproductions: stored records, the evaluation record and per-solution metrics.

Kept apart from `reproduce` (the engine) and `registry` (the study definitions) so that metrics modules can
use them without importing either.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..model.leg import JOINTS
from . import comparison as C
from .config import Experiment
from .paths import experiments_dir  # noqa: F401  (re-exported: the shipped experiments folder)

FIG_DPI = 100


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=FIG_DPI)
    return path

@dataclass
class Evaluation:
    values: list[C.ModelValue]
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra_md: str = ""


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
    out: str = ""  # the output directory the data was read from (a study may put another study's file in context)
    study: Any = None  # the StudyDef (registry): its parameters, variants and published rows

    def find(self, experiment: str | None = None, **labels) -> list[Record]:
        return [r for r in self.records if (experiment is None or r.experiment == experiment)
                and _match(r.labels, labels)]

    def one(self, experiment: str | None = None, **labels) -> Record | None:
        found = self.find(experiment, **labels)
        return found[0] if found else None

    def rows(self) -> list[C.ComparisonRow]:
        """The model-vs-published comparison rows of this data (the study's metrics against its published rows)."""
        return C.compare(self.study.evaluate(self).values, self.study.published)

    def failed(self, experiment: str | None = None, **labels) -> list[FailureRec]:
        return [f for f in self.failures if (experiment is None or f.experiment == experiment)
                and _match(f.labels, labels)]


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


def _power_W(r: Record, kind: str, joint: str) -> float:
    """Mean power of one kind of joint work over the cycle, both legs (W): kind is 'positive_work_J',
    'negative_work_J', 'extension_work_J' or 'flexion_work_J' of the cycle summary."""
    return 2.0 * getattr(r.summary, kind)[joint] / r.sol.period_s


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


