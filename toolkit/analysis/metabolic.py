"""Metabolic power, gross efficiency and delta efficiency of solutions (toolkit.model.energetics).

Computed from the stored solution arrays (excitation, activation, fiber_length, fiber_velocity, active,
passive) and the muscle parameters in the solution's setup provenance (setup["muscles"][name]), so the same
numbers come out of a fresh solve and of a solution loaded from HDF5.

- Per muscle (one leg): cycle mean of the muscle's total energy rate (heat + work, W), by the model chosen in
  the solution's cost spec (`cost.metabolic_model`) unless another is asked for.
- Whole body: both legs (the second leg is the first half a cycle later, so its cycle mean is the same) plus
  the basal rate 1.2 W/kg x body mass: metabolic_power_W.
- Gross efficiency = mean crank power of both legs / metabolic_power_W (basal included, as measured by
  indirect calorimetry; Moseley & Jeukendrup 2001).
- Delta efficiency over a set of work rates = least-squares slope of crank power against metabolic power
  (Coyle et al. 1992: slope of work accomplished vs energy expended between work rates).

Solutions stored before the energetics were added lack some parameters in setup["muscles"]: the maximal
contraction velocity, specific tension and density then come from the packaged muscles.csv and the
slow-twitch fractions from the rider (setup["rider"]) and data/energetics.toml.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..model import energetics
from ..model.muscles import MUSCLE_NAMES, active_force_length
from ..model.parameters import read_csv_rows

_CSV_FALLBACK = {"max_velocity_lopt_per_s": "max_contraction_velocity", "specific_tension_Pa": "specific_tension_Pa",
                 "density_kg_m3": "density_kg_m3"}


def _param(sol, key: str) -> np.ndarray:
    mus = sol.setup["muscles"]
    if all(key in mus[n] for n in MUSCLE_NAMES):
        return np.array([float(mus[n][key]) for n in MUSCLE_NAMES])
    if key in _CSV_FALLBACK:
        rows = {r["name"]: r for r in read_csv_rows("muscles.csv")}
        return np.array([float(rows[n][_CSV_FALLBACK[key]]) for n in MUSCLE_NAMES])
    if key == "slow_twitch_fraction":
        rider = sol.setup.get("rider") or {}
        return energetics.rider_slow_twitch_fractions(rider.get("type1_pct_vastus_lateralis"))
    raise ValueError(f"solution setup lacks muscle parameter {key!r} (see toolkit.ocp.solve.describe_setup)")


def _body_mass(sol) -> float:
    return float((sol.setup.get("rider") or {}).get("mass_kg", 70.0))


def model_of(sol) -> str:
    """The energetics model a solution reports by default (its cost spec's metabolic_model)."""
    cost = getattr(sol.spec, "cost", None)
    return getattr(cost, "metabolic_model", energetics.DEFAULT_MODEL)


def muscle_energy_rates(sol, model: str | None = None, slow_twitch: Sequence[float] | None = None) -> dict:
    """Per-muscle energy rates (W) at every node of one leg, each (9, N): activation_maintenance, shortening,
    work, heat, total. slow_twitch overrides the solution's slow-twitch fractions (e.g. another rider's)."""
    model = model or model_of(sol)
    fmax = _param(sol, "max_force_N")
    lopt = _param(sol, "optimal_fiber_length_m")
    vmax = _param(sol, "max_velocity_lopt_per_s")
    mass = energetics.muscle_mass(fmax, lopt, _param(sol, "specific_tension_Pa"), _param(sol, "density_kg_m3"))
    fst = np.asarray(slow_twitch, dtype=float) if slow_twitch is not None else _param(sol, "slow_twitch_fraction")
    lm = np.asarray(sol["fiber_length"])
    N = lm.shape[1]
    curves = (sol.setup.get("rider") or {}).get("muscle_curves", "toolkit")
    fl = np.array(active_force_length(lm / lopt[:, None], curves))
    f = energetics.rates_function(model).map(N)
    col = lambda v: np.repeat(np.asarray(v, dtype=float)[:, None], N, axis=1)  # noqa: E731
    out = f(sol["excitation"], sol["activation"], lm, sol["fiber_velocity"], fl, sol["active"], sol["passive"],
            col(fmax), col(lopt), col(vmax), col(mass), col(fst))
    return {k: np.array(v) for k, v in zip(energetics.OUTPUTS, out)}


def _cycle_mean(sol, x: np.ndarray) -> np.ndarray:
    """Time mean over the cycle of node values (periodic trapezoid, non-uniform dt for an inertial load)."""
    dt = sol.node_dt
    return (x * dt).sum(axis=-1) / dt.sum()


def _crank_power_W(sol) -> float:
    from .power import cycle_summary

    return float(cycle_summary(sol).mean_crank_power_W)


def metabolic_summary(sol, model: str | None = None, slow_twitch: Sequence[float] | None = None) -> dict:
    """Metabolic outputs of one solution.

    Keys: metabolic_power_W (whole body: both legs + basal), gross_efficiency (crank power / metabolic power),
    metabolic_power_by_muscle_W {unit: W, both legs}, muscle_metabolic_power_W (both legs, no basal),
    basal_power_W, heat_W and work_W (both legs), mean_crank_power_W, metabolic_model."""
    model = model or model_of(sol)
    r = muscle_energy_rates(sol, model, slow_twitch)
    per_muscle = 2.0 * _cycle_mean(sol, r["total"])
    basal = float(energetics.basal_power_W(_body_mass(sol)))
    total = float(per_muscle.sum()) + basal
    crank = _crank_power_W(sol)
    return {
        "metabolic_power_W": total,
        "gross_efficiency": crank / total,
        "metabolic_power_by_muscle_W": dict(zip(MUSCLE_NAMES, per_muscle.tolist())),
        "muscle_metabolic_power_W": float(per_muscle.sum()),
        "basal_power_W": basal,
        "heat_W": float(2.0 * _cycle_mean(sol, r["heat"]).sum()),
        "work_W": float(2.0 * _cycle_mean(sol, r["work"]).sum()),
        "mean_crank_power_W": crank,
        "metabolic_model": model,
    }


def delta_efficiency(solutions: Iterable, model: str | None = None,
                     slow_twitch: Sequence[float] | None = None) -> float:
    """Delta efficiency over solutions at different work rates: the least-squares slope of crank power against
    metabolic power (with two work rates: delta crank power / delta metabolic power). Needs two or more
    distinct work rates."""
    pts = [metabolic_summary(s, model, slow_twitch) for s in solutions]
    if len({round(p["mean_crank_power_W"], 9) for p in pts}) < 2:
        raise ValueError("delta efficiency needs solutions at two or more different work rates")
    crank = np.array([p["mean_crank_power_W"] for p in pts])
    met = np.array([p["metabolic_power_W"] for p in pts])
    return float(np.polyfit(met, crank, 1)[0])
