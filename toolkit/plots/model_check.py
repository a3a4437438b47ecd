"""Figures of the model check (python -m toolkit check-model): data in, matplotlib Figure out.

Every function takes `solutions`, a mapping label -> Solution (solved conditions), and draws them on crank angle
(deg, 0 = TDC). Measured reference curves (Park et al. 2022, toolkit.check.reference.ParkData) are drawn as a
grey mean line with a +-1 SD band and labelled with their own (low) cadence and power. No reference number is
written in this module: bands and values come in as arguments from the cited data files.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..analysis.resample import resample_periodic
from ..analysis.cycle_curves import GRID, normalized_fibre_length, on_grid, pedal_components
from ..model.muscles import MUSCLE_NAMES
from .figures import CRANK_LABEL, JOINT_ANGLE_NAMES, _colors, _crank_axis

REF_COLOR = "0.45"


def _items(solutions):
    return list(solutions.items()) if isinstance(solutions, Mapping) else list(solutions)


def _band(ax, x, mean, sd, label):
    ax.fill_between(x, mean - sd, mean + sd, color=REF_COLOR, alpha=0.25, lw=0)
    ax.plot(x, mean, color=REF_COLOR, lw=1.5, ls="--", label=label)


def _park_label(park) -> str:
    return f"measured, Park et al. 2022 ({park.cadence_rpm:.0f} rpm, ~{park.power_W:.0f} W), mean +- SD"


def kinematics_figure(solutions, park=None) -> Figure:
    """Hip, knee, ankle angles and the sole angle vs crank angle; the measured pedal angle mapped to the foot
    line (+13 deg, as Park et al. map it to this foot) on the sole panel, the raw pedal angle dotted."""
    items = _items(solutions)
    fig = Figure(figsize=(12, 8), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    x = np.append(GRID, 360.0)
    for (label, sol), c in zip(items, _colors(len(items))):
        q = np.degrees(on_grid(sol, sol["q"]))
        phi = np.degrees(on_grid(sol, sol["phi"]))
        for i in range(3):
            axes[i].plot(x, np.append(q[i], q[i][0]), color=c, label=label)
        axes[3].plot(x, np.append(phi, phi[0]), color=c, label=label)
    for i, name in enumerate(JOINT_ANGLE_NAMES):
        axes[i].set_ylabel(f"{name} (deg)")
    axes[3].set_ylabel("sole angle, toe-down + (deg)")
    if park is not None:
        _band(axes[3], park.crank_angle_deg, park.foot_line_angle, park.pedal_angle_sd,
              _park_label(park) + ", pedal angle + 13 deg")
        axes[3].plot(park.crank_angle_deg, park.pedal_angle_mean, color=REF_COLOR, ls=":", lw=1.2,
                     label="measured pedal angle as published")
    for ax in axes:
        _crank_axis(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    h3, l3 = axes[3].get_legend_handles_labels()
    extra = [(h, lab) for h, lab in zip(h3, l3) if lab not in labels]
    fig.legend(handles + [h for h, _ in extra], labels + [lab for _, lab in extra], loc="outside lower center",
               ncol=3, fontsize=8)
    fig.suptitle("Joint and sole angles")
    return fig


def pedal_force_figure(solutions, park=None, ie: Mapping[str, float] | None = None) -> Figure:
    """Tangential, radial and resultant pedal force (one leg, N) vs crank angle; the index of effectiveness in
    the legend when given."""
    items = _items(solutions)
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    axes = fig.subplots(1, 3, sharey=False)
    x = np.append(GRID, 360.0)
    keys = ("tangential", "radial", "resultant")
    for (label, sol), c in zip(items, _colors(len(items))):
        pf = pedal_components(sol)
        lab = label if not ie or label not in ie else f"{label} (IE {ie[label]:.2f})"
        for ax, k in zip(axes, keys):
            ax.plot(x, np.append(pf[k], pf[k][0]), color=c, label=lab)
    if park is not None:
        axes[0].plot(park.crank_angle_deg, park.tangential, color=REF_COLOR, ls="--", lw=1.5, label=_park_label(park))
        axes[1].plot(park.crank_angle_deg, park.radial, color=REF_COLOR, ls="--", lw=1.5)
        axes[2].plot(park.crank_angle_deg, park.resultant, color=REF_COLOR, ls="--", lw=1.5)
    titles = ("tangential (+ drives the crank)", "radial (+ outward)", "resultant")
    for ax, t in zip(axes, titles):
        ax.set_title(t, fontsize=10)
        ax.set_ylabel("pedal force, one leg (N)")
        ax.axhline(0, color="k", lw=0.5)
        _crank_axis(ax)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
    return fig


def park_force_components_figure(sol, park, label: str) -> Figure:
    """Fore-aft and vertical pedal force of one solution against the measured mean +- SD (same conditions)."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    pf = pedal_components(sol)
    x = np.append(GRID, 360.0)
    for ax, k, mean, sd, name in ((axes[0], "fx", park.fx_mean, park.fx_sd, "fore-aft force, + forward (N)"),
                                  (axes[1], "fy", park.fy_mean, park.fy_sd, "vertical force, + up (N)")):
        _band(ax, park.crank_angle_deg, mean, sd, _park_label(park))
        ax.plot(x, np.append(pf[k], pf[k][0]), color="C0", label=label)
        ax.set_ylabel(name)
        _crank_axis(ax)
    axes[0].legend(fontsize=7)
    return fig


def joint_moment_figure(solutions) -> Figure:
    """Net joint moments (N m, flexion/dorsiflexion +) vs crank angle with each curve's peaks marked."""
    items = _items(solutions)
    fig = Figure(figsize=(13, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    x = np.append(GRID, 360.0)
    for (label, sol), c in zip(items, _colors(len(items))):
        M = on_grid(sol, sol["moment"])
        for i, ax in enumerate(axes):
            ax.plot(x, np.append(M[i], M[i][0]), color=c, label=label)
            for k in (int(np.argmax(M[i])), int(np.argmin(M[i]))):
                ax.plot(GRID[k], M[i][k], "o", color=c, ms=4)
    names = ("hip (flexion +)", "knee (flexion +)", "ankle (dorsiflexion +)")
    for ax, n in zip(axes, names):
        ax.set_title(n, fontsize=10)
        ax.set_ylabel("net joint moment (N m)")
        ax.axhline(0, color="k", lw=0.5)
        _crank_axis(ax)
    axes[0].legend(fontsize=7)
    return fig


def fibre_length_figure(solutions, bands: Mapping[str, Sequence[tuple[float, float, str]]] | None = None) -> Figure:
    """Normalized fibre length (l / l_opt) of each muscle vs crank angle; `bands` maps a muscle to published
    (low, high, label) operating ranges, drawn as grey bands."""
    items = _items(solutions)
    fig = Figure(figsize=(13, 9), layout="constrained")
    axes = fig.subplots(3, 3, sharex=True).ravel()
    x = np.append(GRID, 360.0)
    for (label, sol), c in zip(items, _colors(len(items))):
        ln = resample_periodic(sol["theta"], normalized_fibre_length(sol), GRID)
        for i, ax in enumerate(axes):
            ax.plot(x, np.append(ln[i], ln[i][0]), color=c, label=label)
    for i, (ax, m) in enumerate(zip(axes, MUSCLE_NAMES)):
        ax.set_title(m, fontsize=10)
        ax.axhline(1.0, color="k", lw=0.5)
        for lo, hi, lab in (bands or {}).get(m, ()):
            ax.axhspan(lo, hi, color=REF_COLOR, alpha=0.2, label=lab)
        _crank_axis(ax, label=i >= 6)
        if i % 3 == 0:
            ax.set_ylabel("l / l_opt")
        if (bands or {}).get(m):
            ax.legend(fontsize=6)
    axes[0].legend(fontsize=6)
    return fig


def work_by_action_figure(positive: Mapping[str, Mapping[str, float]], negative: Mapping[str, Mapping[str, float]]
                          ) -> Figure:
    """Positive (left) and negative (right) work per action (J per cycle, one leg), one bar per condition.
    positive: label -> {action: J >= 0}; negative: label -> {action: J <= 0}."""
    labels = list(positive)
    actions = list(next(iter(positive.values())).keys()) if labels else []
    fig = Figure(figsize=(14, 4.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    w = 0.8 / max(1, len(labels))
    x = np.arange(len(actions))
    for k, (lab, c) in enumerate(zip(labels, _colors(len(labels)))):
        ax1.bar(x + k * w, [positive[lab][a] for a in actions], w, color=c, label=lab)
        ax2.bar(x + k * w, [negative[lab][a] for a in actions], w, color=c)
    for ax, what in ((ax1, "positive"), (ax2, "negative")):
        ax.set_xticks(x + 0.4 - w / 2, [a.replace("_", "\n") for a in actions], fontsize=8)
        ax.set_ylabel(f"{what} work per cycle, one leg (J)")
        ax.grid(True, axis="y", alpha=0.3)
    ax1.legend(fontsize=7)
    return fig


def shares_comparison_figure(model: Mapping[str, float], spread: Mapping[str, float], reference: Mapping[str, float],
                             model_label: str, reference_label: str) -> Figure:
    """Model shares (%) with their multi-start spread as error bars beside the reference shares (%), one bar pair
    per key (joints or actions); keys missing from `reference` show no reference bar."""
    keys = list(model)
    fig = Figure(figsize=(max(6, 1.3 * len(keys) + 2), 4.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(keys))
    ax.bar(x - 0.2, [model[k] for k in keys], 0.4, yerr=[spread.get(k, 0.0) / 2 for k in keys], capsize=3,
           color="C0", label=f"{model_label} (error bar: multi-start spread)")
    ref = [reference.get(k, np.nan) for k in keys]
    ax.bar(x + 0.2, ref, 0.4, color=REF_COLOR, label=reference_label)
    ax.set_xticks(x, [k.replace("_", "\n") for k in keys], fontsize=8)
    ax.set_ylabel("% of total positive joint work")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def crank_label() -> str:
    return CRANK_LABEL
