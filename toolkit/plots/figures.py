"""Figure functions: data in, matplotlib Figure out (no pyplot state, nothing shown or saved here).

Every function builds a `matplotlib.figure.Figure` directly, so it is safe in worker processes and never
opens a window; save with `fig.savefig(path, dpi=...)` (see toolkit.plots.report).

Conventions on every axis: crank angle in deg (0 = TDC, 180 = BDC, downstroke 0-180), powers in W,
moments in N m, forces in N, shares in % of the total positive joint work, joint angles in deg
(hip flexion +, knee flexion +, ankle dorsiflexion +), positions in m (x forward, y up, origin at the bottom
bracket). `solutions` arguments take a mapping label -> Solution (or a sequence of (label, Solution) pairs);
the label is what the legend shows.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..analysis.emg import EmgRange, load_emg_on_ranges, ranges_by_muscle
from ..analysis.muscle_power import fibre_power
from ..analysis.pedal import both_legs_crank_torque, radial_force, tangential_force
from ..analysis.power import cycle_summary, joint_power
from ..analysis.resample import crank_angle_grid, resample_periodic
from ..model.leg import JOINTS
from ..model.muscles import MUSCLE_NAMES

CRANK_LABEL = "crank angle (deg, 0 = TDC)"
MUSCLE_LONG = {"GMAX": "gluteus maximus", "ILIO": "iliopsoas", "HAMS": "hamstrings", "BFSH": "biceps fem. short head",
               "RF": "rectus femoris", "VAS": "vasti", "GAS": "gastrocnemius", "SOL": "soleus",
               "TA": "tibialis anterior"}
JOINT_ANGLE_NAMES = ("hip flexion", "knee flexion", "ankle dorsiflexion")


def _items(solutions) -> list[tuple[str, Any]]:
    if isinstance(solutions, Mapping):
        return list(solutions.items())
    if hasattr(solutions, "arrays") and hasattr(solutions, "spec"):
        return [(describe(solutions), solutions)]
    return [(str(k), s) for k, s in solutions]


def describe(sol) -> str:
    """Short label of a solution: condition, work rate and cadence."""
    s = sol.spec
    return f"{s.condition}, {s.power_W:g} W, {s.cadence_rpm:g} rpm"


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _crank_axis(ax, label: bool = True) -> None:
    ax.set_xlim(0, 360)
    ax.set_xticks([0, 90, 180, 270, 360])
    if label:
        ax.set_xlabel(CRANK_LABEL)
    ax.grid(True, alpha=0.3)


def _smooth(sol, values, grid=None, method: str = "spline"):
    grid = crank_angle_grid(2.0) if grid is None else grid
    return grid, resample_periodic(sol["theta"], values, grid, method)


# ----------------------------------------------------------------------------------------------- joint power


def joint_power_figure(solutions, title: str | None = None) -> Figure:
    """Joint power (W) of one leg vs crank angle, one panel per joint (hip, knee, ankle), solutions overlaid."""
    items = _items(solutions)
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    lines = []
    for (label, sol), color in zip(items, _colors(len(items))):
        grid, P = _smooth(sol, joint_power(sol))
        shares = cycle_summary(sol).joint_work_share
        for j, ax in enumerate(axes):
            (ln,) = ax.plot(grid, P[j], color=color, lw=1.8)
            ax.plot(np.degrees(sol["theta"]), joint_power(sol)[j], "o", color=color, ms=2.5)
        lines.append((ln, f"{label} (hip {shares['hip']:.0%}, knee {shares['knee']:.0%}, ankle {shares['ankle']:.0%})"))
    for j, ax in enumerate(axes):
        ax.axhline(0, color="k", lw=0.6)
        ax.axvspan(0, 180, color="0.92", zorder=0)
        ax.set_title(f"{JOINTS[j]}")
        _crank_axis(ax)
    axes[0].set_ylabel("joint power, one leg (W)")
    axes[0].text(90, 0.98, "downstroke", transform=axes[0].get_xaxis_transform(), ha="center", va="top",
                 fontsize="x-small", color="0.4")
    fig.legend([h for h, _ in lines], [t for _, t in lines], loc="outside lower center",
               ncol=min(len(lines), 2), frameon=False, fontsize="small",
               title="shares of positive joint work in brackets", title_fontsize="small")
    fig.suptitle(title or "Joint power over the crank cycle (net moment x angular velocity; dots = mesh nodes)")
    return fig


# ----------------------------------------------------------------------------------------------- shares


def shares_series(groups: Mapping[str, Sequence[Any]], x: str = "power_W") -> dict[str, list[tuple[float, dict]]]:
    """label -> [(x value, joint_work_share)] sorted by x, from label -> solutions. x: a ProblemSpec field
    (e.g. 'power_W', 'cadence_rpm')."""
    out = {}
    for label, sols in groups.items():
        pts = [(float(getattr(s.spec, x)), cycle_summary(s).joint_work_share) for s in sols]
        out[label] = sorted(pts, key=lambda p: p[0])
    return out


def joint_shares_figure(series: Mapping[str, Sequence[Any]], x_label: str = "work rate, both legs (W)",
                        title: str | None = None, reference: Mapping[str, Sequence[tuple[float, dict]]] | None = None
                        ) -> Figure:
    """Each joint's share of the total positive joint work (%) vs work rate, one panel per joint, one line per
    condition/rider. series: label -> [(x, {'hip': f, 'knee': f, 'ankle': f})] or label -> [Solution, ...]
    (x = power_W). reference: optional published points, drawn as open markers with their label."""
    data = {}
    for label, pts in series.items():
        pts = list(pts)
        if pts and hasattr(pts[0], "spec"):
            pts = shares_series({label: pts})[label]
        data[label] = sorted(pts, key=lambda p: p[0])
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    handles, labels = [], []
    for (label, pts), color in zip(data.items(), _colors(len(data))):
        xs = [p[0] for p in pts]
        for j, ax in enumerate(axes):
            (ln,) = ax.plot(xs, [100 * p[1][JOINTS[j]] for p in pts], "-o", color=color, lw=1.8, ms=4)
        handles.append(ln)
        labels.append(label)
    for (label, pts), marker in zip((reference or {}).items(), "sD^v<>p"):
        for j, ax in enumerate(axes):
            (ln,) = ax.plot([p[0] for p in pts], [100 * p[1][JOINTS[j]] for p in pts], marker, mfc="none",
                            color="k", ms=7, ls="none")
        handles.append(ln)
        labels.append(label)
    for j, ax in enumerate(axes):
        ax.set_title(JOINTS[j])
        ax.set_xlabel(x_label)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("share of positive joint work (%)")
    axes[0].set_ylim(bottom=0)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), frameon=False,
               fontsize="small")
    fig.suptitle(title or "Joint shares of the positive joint work vs work rate")
    return fig


def joint_shares_bar_figure(solutions, title: str | None = None) -> Figure:
    """Shares of positive joint work (%) per solution as grouped bars (conditions compared at one work rate)."""
    items = _items(solutions)
    fig = Figure(figsize=(max(6.0, 1.6 * len(items) + 3), 4.4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(JOINTS)
    x = np.arange(len(items))
    for j, color in zip(range(len(JOINTS)), _colors(3)):
        vals = [100 * cycle_summary(s).joint_work_share[JOINTS[j]] for _, s in items]
        bars = ax.bar(x + (j - 1) * width, vals, width, color=color, label=JOINTS[j])
        ax.bar_label(bars, fmt="%.0f", fontsize="x-small", padding=1)
    ax.set_xticks(x, [lab for lab, _ in items], rotation=15 if len(items) > 3 else 0, ha="right" if len(items) > 3 else "center")
    ax.set_ylabel("share of positive joint work (%)")
    ax.legend(title="joint", fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(title or "Joint shares of the positive joint work")
    return fig


# ----------------------------------------------------------------------------------------------- activations


def _emg_bands(ax, ranges: Sequence[EmgRange]) -> None:
    n = len(ranges)
    for i, r in enumerate(ranges):
        stated = r.basis == "stated"
        lo_y, hi_y = (i / n, (i + 1) / n) if n > 1 else (0.0, 1.0)
        for a, b in r.intervals():
            ax.axvspan(a, b, ymin=lo_y, ymax=hi_y, color="tab:gray", alpha=0.28 if stated else 0.14,
                       hatch=None if stated else "//", lw=0, zorder=0)


def activation_figure(solutions, emg_ranges: Sequence[EmgRange] | None = None, show_excitation: bool | None = None,
                      title: str | None = None) -> Figure:
    """Muscle activations (0-1) vs crank angle, one panel per muscle, with the published EMG on-ranges
    (toolkit/analysis/data/emg_on_ranges.csv unless given) as grey bands; several published ranges for a
    muscle are stacked as horizontal strips. Excitations are dashed (by default when one solution is shown)."""
    items = _items(solutions)
    ranges = ranges_by_muscle(list(emg_ranges) if emg_ranges is not None else load_emg_on_ranges())
    show_excitation = (len(items) == 1) if show_excitation is None else show_excitation
    fig = Figure(figsize=(11, 8.6), layout="constrained")
    axes = fig.subplots(3, 3, sharex=True, sharey=True).ravel()
    handles, labels = [], []
    top = 0.0
    for (label, sol), color in zip(items, _colors(len(items))):
        grid, a = _smooth(sol, sol["activation"], method="linear")
        top = max(top, float(a.max()), float(sol["excitation"].max()) if show_excitation else 0.0)
        _, e = _smooth(sol, sol["excitation"], method="linear")
        for i, ax in enumerate(axes):
            (ln,) = ax.plot(grid, a[i], color=color, lw=1.8)
            if show_excitation:
                ax.plot(grid, e[i], color=color, lw=1.0, ls="--")
        handles.append(ln)
        labels.append(f"{label}: activation")
    for i, ax in enumerate(axes):
        m = MUSCLE_NAMES[i]
        _emg_bands(ax, ranges.get(m, []))
        srcs = "; ".join(f"{r.onset_deg:g}-{r.offset_deg:g}" for r in ranges.get(m, []))
        ax.set_title(f"{m} ({MUSCLE_LONG[m]})" + ("" if srcs else "\nno published range stored"), fontsize="small")
        _crank_axis(ax, label=i >= 6)
        ax.set_ylim(0, min(1.02, max(0.5, 1.1 * top)))
        if i % 3 == 0:
            ax.set_ylabel("activation (0-1)")
    if show_excitation:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.3", ls="--", lw=1.0))
        labels.append("excitation (same colour)")
    handles += [Patch(color="tab:gray", alpha=0.28), Patch(facecolor="tab:gray", alpha=0.14, hatch="//")]
    labels += ["published EMG on-range (stated)", "EMG on-range read from a phase description"]
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 3), frameon=False,
               fontsize="small")
    if title is None:
        title = "Muscle activation vs crank angle against published EMG on-ranges"
        multi = [(m, rs) for m, rs in ranges.items() if len(rs) > 1]
        for m, rs in multi:
            title += f"\n{m} strips, bottom to top: " + "; ".join(r.source.split(",")[0] for r in rs)
    fig.suptitle(title, fontsize="medium")
    return fig


# ----------------------------------------------------------------------------------------------- muscle power


def muscle_power_figure(solutions, title: str | None = None) -> Figure:
    """Fibre power (W, concentric +) of every muscle vs crank angle, one panel per muscle."""
    items = _items(solutions)
    fig = Figure(figsize=(11, 8.2), layout="constrained")
    axes = fig.subplots(3, 3, sharex=True).ravel()
    handles, labels = [], []
    for (label, sol), color in zip(items, _colors(len(items))):
        grid, P = _smooth(sol, fibre_power(sol))
        for i, ax in enumerate(axes):
            (ln,) = ax.plot(grid, P[i], color=color, lw=1.6)
        handles.append(ln)
        labels.append(label)
    for i, ax in enumerate(axes):
        m = MUSCLE_NAMES[i]
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"{m} ({MUSCLE_LONG[m]})", fontsize="small")
        _crank_axis(ax, label=i >= 6)
        if i % 3 == 0:
            ax.set_ylabel("fibre power (W)")
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), frameon=False,
               fontsize="small")
    fig.suptitle(title or "Muscle fibre power, one leg (-force x fibre velocity; + = concentric)", fontsize="medium")
    return fig


# ----------------------------------------------------------------------------------------------- pedal


def pedal_force_figure(solutions, title: str | None = None) -> Figure:
    """Tangential (solid) and radial (dashed) pedal force of one leg, and the crank torque of both legs."""
    items = _items(solutions)
    fig = Figure(figsize=(12, 4.4), layout="constrained")
    ax_f, ax_t = fig.subplots(1, 2)
    handles, labels = [], []
    for (label, sol), color in zip(items, _colors(len(items))):
        grid, ft = _smooth(sol, tangential_force(sol))
        _, fr = _smooth(sol, radial_force(sol))
        _, tb = _smooth(sol, both_legs_crank_torque(sol))
        _, t1 = _smooth(sol, sol["crank_torque"])
        (ln,) = ax_f.plot(grid, ft, color=color, lw=1.8)
        ax_f.plot(grid, fr, color=color, lw=1.2, ls="--")
        ax_t.plot(grid, tb, color=color, lw=1.8)
        ax_t.plot(grid, t1, color=color, lw=1.0, ls=":")
        handles.append(ln)
        labels.append(label)
    for ax in (ax_f, ax_t):
        ax.axhline(0, color="k", lw=0.6)
        _crank_axis(ax)
    ax_f.set_ylabel("pedal force, one leg (N)")
    ax_f.set_title("tangential (solid, + drives the crank), radial (dashed, + outward)", fontsize="small")
    ax_t.set_ylabel("crank torque (N m)")
    ax_t.set_title("both legs (solid), one leg (dotted)", fontsize="small")
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 4), frameon=False,
               fontsize="small")
    fig.suptitle(title or "Pedal force and crank torque")
    return fig


# ----------------------------------------------------------------------------------------------- stick figure


def leg_points(sol, crank_angles_deg: Iterable[float], model=None) -> tuple[np.ndarray, np.ndarray]:
    """Positions (m) of hip, knee, ankle and pedal spindle, shape (M, 2, 4), and joint angles (M, 3) (rad) at
    the given crank angles, recomputed from theta, the sole angle (periodic spline between nodes) and
    setup['leg_params'] with LegModel.pose (one LegModel per call unless given)."""
    from ..model.leg import LegModel

    model = model if model is not None else LegModel()
    angles = np.asarray(list(crank_angles_deg), dtype=float)
    phi = resample_periodic(sol["theta"], sol["phi"], angles, "spline")
    p = np.asarray(sol.setup["leg_params"], dtype=float)
    pts, qs = [], []
    for th, ph in zip(np.radians(angles), phi):
        q, _, P = model.pose(th, ph, p)
        pts.append(np.array(P))
        qs.append(np.array(q).ravel())
    return np.array(pts), np.array(qs)


def stick_figure(sol, crank_angles_deg: Iterable[float] = (0, 60, 120, 180, 240, 300), model=None,
                 title: str | None = None) -> Figure:
    """Leg and crank drawn at several crank angles (right side view, x forward, y up), beside the joint angles
    over the cycle with the drawn angles marked."""
    angles = list(crank_angles_deg)
    pts, _ = leg_points(sol, angles, model)
    fig = Figure(figsize=(12, 6.0), layout="constrained")
    ax, ax_q = fig.subplots(1, 2, width_ratios=[0.85, 1])
    colors = _colors(len(angles))
    c = float(np.hypot(*pts[0][:, 3]))
    t = np.linspace(0, 2 * math.pi, 200)
    ax.plot(c * np.sin(t), c * np.cos(t), color="0.6", ls="--", lw=0.8)
    ax.plot(0, 0, "o", color="k", ms=6)
    hip = pts[0][:, 0]
    ax.plot(hip[0], hip[1], "s", color="k", ms=8)
    ax.annotate("hip", hip, textcoords="offset points", xytext=(-8, -14), ha="right", fontsize="small")
    ax.annotate("bottom bracket", (0, 0), textcoords="offset points", xytext=(8, -14), fontsize="small")
    for P, a, col in zip(pts, angles, colors):
        ax.plot([0, P[0, 3]], [0, P[1, 3]], color=col, lw=3, alpha=0.9, solid_capstyle="round")
        ax.plot(P[0, :], P[1, :], "-o", color=col, lw=1.8, ms=3.5, label=f"{a:g} deg")
    ax.set_aspect("equal")
    ax.set_xlabel("x, forward (m)")
    ax.set_ylabel("y, up (m)")
    ax.grid(True, alpha=0.3)
    ax.legend(title="crank angle", fontsize="x-small", title_fontsize="small", loc="upper center",
              bbox_to_anchor=(0.5, -0.1), ncol=min(len(angles), 6), frameon=False)
    ax.set_title("hip - knee - ankle - pedal, crank (thick)", fontsize="small")

    grid, q = _smooth(sol, sol["q"])
    for j, name in enumerate(JOINT_ANGLE_NAMES):
        ax_q.plot(grid, np.degrees(q[j]), lw=1.8, label=name)
    _, phi = _smooth(sol, sol["phi"])
    ax_q.plot(grid, np.degrees(phi), lw=1.2, ls="--", color="0.3", label="sole angle (toe-down +)")
    for a, col in zip(angles, colors):
        ax_q.axvline(a, color=col, lw=0.8, alpha=0.7)
    _crank_axis(ax_q)
    ax_q.set_ylabel("angle (deg)")
    ax_q.legend(fontsize="small")
    ax_q.set_title("joint angles (hip flexion +, knee flexion +, ankle dorsiflexion +)", fontsize="small")
    fig.suptitle(title or f"Leg over the cycle: {describe(sol)}")
    return fig


def pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def animate_stick(sol, path, frames: int = 36, fps: int = 12, model=None) -> Path | None:
    """Animated GIF of the leg over one cycle (matplotlib PillowWriter). Returns the path, or None when pillow
    is not installed (nothing written)."""
    if not pillow_available():
        return None
    from matplotlib.animation import FuncAnimation, PillowWriter

    angles = np.linspace(0, 360, frames, endpoint=False)
    pts, _ = leg_points(sol, angles, model)
    fig = Figure(figsize=(4.8, 4.8), layout="constrained")
    ax = fig.subplots()
    c = float(np.hypot(*pts[0][:, 3]))
    t = np.linspace(0, 2 * math.pi, 200)
    ax.plot(c * np.sin(t), c * np.cos(t), color="0.6", ls="--", lw=0.8)
    ax.plot(0, 0, "o", color="k", ms=5)
    allx, ally = pts[:, 0, :], pts[:, 1, :]
    pad = 0.08
    ax.set_xlim(min(allx.min(), -c) - pad, max(allx.max(), c) + pad)
    ax.set_ylim(min(ally.min(), -c) - pad, max(ally.max(), c) + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x, forward (m)")
    ax.set_ylabel("y, up (m)")
    ax.grid(True, alpha=0.3)
    (leg,) = ax.plot([], [], "-o", color="tab:blue", lw=2.2, ms=4)
    (crank,) = ax.plot([], [], color="k", lw=3)
    txt = ax.set_title("")

    def update(i):
        P = pts[i]
        leg.set_data(P[0, :], P[1, :])
        crank.set_data([0, P[0, 3]], [0, P[1, 3]])
        txt.set_text(f"{describe(sol)}: crank {angles[i]:.0f} deg")
        return leg, crank, txt

    anim = FuncAnimation(fig, update, frames=len(angles), blit=False)
    path = Path(path)
    anim.save(path, writer=PillowWriter(fps=fps), dpi=80)
    return path
