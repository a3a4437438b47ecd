"""The validated experiment and its sweep: `Experiment` (riders, fits, conditions, intensities, cost,
solver, output) and `Point` (one solve, one `ProblemSpec`). Built by `load_experiment` (build.py)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...model.anthropometry import Rider
from ...model.bikefit import BikeFit
from ...ocp.problem import CostSpec, ProblemSpec, SolverSpec
from .. import intensity as inten

_PS = ProblemSpec()


# Condition labels of the ankle-device sweeps: prefix + the number (range width in deg, stiffness in N m/rad).
RANGE_WIDTH_LABEL = "range_limited_w"
BRACE_STIFFNESS_LABEL = "braced_k"


@dataclass(frozen=True)
class ConditionsSpec:
    """[conditions]: which ankle conditions to solve and their settings (degrees)."""

    ankle: tuple[str, ...] = ("free",)
    fixed_ankle_deg: float = _PS.fixed_ankle_deg
    heel_drop_deg: tuple[float, ...] = (_PS.heel_drop_deg,)
    heel_drop_window_deg: tuple[float, float] = _PS.heel_drop_window_deg
    heel_drop_mode: tuple[str, ...] = (_PS.heel_drop_mode,)
    heel_drop_ramp_deg: float = _PS.heel_drop_ramp_deg
    prescribed_sole_deg: tuple[tuple[float, float], ...] = ()
    ankle_range_deg: tuple[float, float] = _PS.ankle_range_deg
    ankle_range_width_deg: tuple[float, ...] = ()
    ankle_stop_stiffness_Nm_per_rad: float = _PS.ankle_stop_stiffness_Nm_per_rad
    brace_stiffness_Nm_per_rad: tuple[float, ...] = (_PS.brace_stiffness_Nm_per_rad,)
    brace_neutral_deg: float = _PS.brace_neutral_deg
    brace_damping_Nms_per_rad: float = _PS.brace_damping_Nms_per_rad

    def expanded(self) -> list[tuple[str, dict[str, Any]]]:
        """[(condition label, ProblemSpec keyword arguments)], one per point; heel_drop once per drop."""
        out: list[tuple[str, dict[str, Any]]] = []
        for c in self.ankle:
            if c == "heel_drop":
                for mode in self.heel_drop_mode:
                    tag = "heel_drop" if mode == "relative" else f"heel_drop_{mode}"
                    for d in self.heel_drop_deg:
                        out.append((f"{tag}{inten._num(d)}", dict(
                            condition=c, heel_drop_deg=d, heel_drop_mode=mode,
                            heel_drop_window_deg=self.heel_drop_window_deg, heel_drop_ramp_deg=self.heel_drop_ramp_deg)))
            elif c == "fixed":
                out.append((c, dict(condition=c, fixed_ankle_deg=self.fixed_ankle_deg)))
            elif c == "prescribed":
                out.append((c, dict(condition=c, prescribed_sole_deg=self.prescribed_sole_deg)))
            elif c == "range_limited":
                stop = dict(condition=c, ankle_stop_stiffness_Nm_per_rad=self.ankle_stop_stiffness_Nm_per_rad)
                if self.ankle_range_width_deg:
                    out += [(f"{RANGE_WIDTH_LABEL}{inten._num(w)}", stop | dict(ankle_range_width_deg=w))
                            for w in self.ankle_range_width_deg]
                else:
                    out.append((c, stop | dict(ankle_range_deg=self.ankle_range_deg)))
            elif c == "braced":
                out += [(f"{BRACE_STIFFNESS_LABEL}{inten._num(k)}", dict(condition=c, brace_stiffness_Nm_per_rad=k,
                                                          brace_neutral_deg=self.brace_neutral_deg,
                                                          brace_damping_Nms_per_rad=self.brace_damping_Nms_per_rad))
                        for k in self.brace_stiffness_Nm_per_rad]
            else:
                out.append((c, dict(condition=c)))
        return out


@dataclass(frozen=True)
class IntensitySpec:
    """[intensity]: levels in `unit` and cadences."""

    unit: str = "W"
    values: tuple[float, ...] = (_PS.power_W,)
    cadence_rpm: tuple[float, ...] = (_PS.cadence_rpm,)


@dataclass(frozen=True)
class OutputSpec:
    """[output]: dir is absolute (resolved against the config file's directory)."""

    dir: Path = Path("out")
    figures: bool = True
    sto: bool = False


@dataclass(frozen=True)
class Point:
    """One solve of a sweep. key: stable, unique, path-like ("rider=R/fit=F/cond=C/P=200W/cad=90")."""

    key: str
    rider: Rider
    fit_name: str
    fit: BikeFit
    spec: ProblemSpec
    intensity_label: str
    labels: dict[str, str | float] = field(default_factory=dict)

    @property
    def condition_label(self) -> str:
        return str(self.labels.get("condition_label", self.spec.condition))


@dataclass(frozen=True)
class Experiment:
    """A validated experiment. `config` is the parsed TOML after --set overrides (for provenance);
    `warnings` lists suspicious but usable settings (FILE: KEY: warning: ...)."""

    name: str
    description: str
    source: Path | None
    riders: tuple[Rider, ...]
    fits: tuple[tuple[str, BikeFit], ...]
    conditions: ConditionsSpec = ConditionsSpec()
    intensity: IntensitySpec = IntensitySpec()
    cost: CostSpec = field(default_factory=CostSpec)
    solver: SolverSpec = field(default_factory=SolverSpec)
    output: OutputSpec = OutputSpec()
    problem: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    config: dict = field(default_factory=dict)
    overrides: tuple[str, ...] = ()

    @property
    def result_file(self) -> Path:
        """OUTPUT_DIR/NAME.h5."""
        return self.output.dir / f"{self.name}.h5"

    @property
    def fit_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.fits)

    def n_points(self) -> int:
        return (len(self.riders) * len(self.fits) * len(self.conditions.expanded())
                * len(self.intensity.values) * len(self.intensity.cadence_rpm))

    def points(self) -> list[Point]:
        """The sweep: riders x fits x conditions x cadences x intensities, intensities innermost and
        ascending, so consecutive points differ in intensity only (warm-start chains)."""
        unit = self.intensity.unit
        values = sorted(self.intensity.values)
        out: list[Point] = []
        for rider in self.riders:
            for fit_name, fit in self.fits:
                for cond_label, cond_kw in self.conditions.expanded():
                    for cad in self.intensity.cadence_rpm:
                        for v in values:
                            power = inten.power_from_intensity(rider, unit, v)
                            spec = ProblemSpec(power_W=power, cadence_rpm=cad, cost=self.cost, solver=self.solver,
                                               **self.problem, **cond_kw)
                            label = inten.intensity_label(unit, v)
                            key = (f"rider={rider.name}/fit={fit_name}/cond={cond_label}/"
                                   f"{inten.intensity_key(unit, v)}/cad={inten._num(cad)}")
                            labels: dict[str, str | float] = {
                                "rider": rider.name, "fit": fit_name, "condition": spec.condition,
                                "condition_label": cond_label, "intensity": label, "intensity_unit": unit,
                                "intensity_value": float(v), "power_W": float(power), "cadence_rpm": float(cad),
                            }
                            out.append(Point(key, rider, fit_name, fit, spec, label, labels))
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything resolved (defaults filled in), JSON-serialisable; for storing with results."""
        def plain(x):
            if dataclasses.is_dataclass(x):
                return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
            if isinstance(x, (list, tuple)):
                return [plain(y) for y in x]
            if isinstance(x, dict):
                return {str(k): plain(y) for k, y in x.items()}
            if isinstance(x, Path):
                return str(x)
            return x
        return {
            "experiment": {"name": self.name, "description": self.description,
                           "source": str(self.source) if self.source else None},
            "riders": [plain(r) for r in self.riders],
            "fits": [dict(name=n, **plain(f)) for n, f in self.fits],
            "conditions": plain(self.conditions), "intensity": plain(self.intensity),
            "cost": plain(self.cost), "solver": plain(self.solver), "output": plain(self.output),
            "problem": dict(self.problem),
            "overrides": list(self.overrides),
        }
