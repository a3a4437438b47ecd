"""Human-readable description of a rider on a bike (for `python -m toolkit model`)."""
from __future__ import annotations

import math

import numpy as np

from .leg import JOINTS, LegModel, Setup, joint_ranges_rad
from .muscles import MUSCLE_NAMES
from .parameters import model_parameters


def describe(model: LegModel, setup: Setup) -> str:
    """Rider, fit, segments, joint ranges, passive moments, each muscle's parameters and geometry-fit error."""
    r, f, s, m = setup.rider, setup.fit, setup.segments, setup.muscles
    lines = [
        "Pedaling model (SI units; angles in deg at this edge)",
        "Conventions: x forward, y up, origin at the bottom bracket; crank angle 0 = TDC, increasing in the "
        "pedaling direction; hip flexion +, knee flexion + (0 = straight), ankle dorsiflexion +; sole angle toe-down +.",
        "",
        f"Rider '{r.name}': {r.height_m:.3f} m, {r.mass_kg:.1f} kg, {r.sex}; force set {r.max_force_set}, strength scaling {r.strength_scaling}, architecture {r.muscle_architecture}, passive {r.passive_curves}, curves {r.muscle_curves}, "
        f"strength x{r.strength_scale:g}, passive strain x{r.passive_strain_scale:g}",
        f"Fit: saddle rule {f.saddle_rule} -> saddle height {setup.saddle_height_m:.4f} m (BB to saddle top), "
        f"seat-tube angle {f.seat_tube_angle_deg:g} deg" + (f", setback {f.setback_m} m" if f.setback_m is not None else "")
        + f", crank {f.crank_length_m * 1000:.1f} mm, trunk {f.trunk_angle_deg:g} deg -> pelvis anterior tilt "
        f"{math.degrees(setup.pelvis_tilt_rad):.1f} deg, cleat offset {f.cleat_offset_m * 1000:.0f} mm",
        f"Hip joint centre: ({setup.hip_xy[0]:.4f}, {setup.hip_xy[1]:.4f}) m; knee flexion at BDC target "
        f"{f.knee_flexion_at_bdc_deg:g} deg with the ankle at {f.ankle_at_bdc_deg:g} deg",
        "",
        "Segments (de Leva 1996):      length m   mass kg   COM m    Izz kg m2",
        f"  thigh                        {s.thigh.length:8.4f} {s.thigh.mass:9.3f} {s.thigh.com:8.4f} {s.thigh.inertia:10.5f}",
        f"  shank                        {s.shank.length:8.4f} {s.shank.mass:9.3f} {s.shank.com:8.4f} {s.shank.inertia:10.5f}",
        f"  foot (ankle->cleat {np.hypot(*s.ankle_to_mtp):.4f} m) {s.foot_mass:9.3f}          {s.foot_inertia:10.5f}",
        f"  geometry scale vs reference model: {s.geometry_scale:.4f}",
        "",
    ]
    lim = np.degrees(joint_ranges_rad())
    pj = model_parameters()["passive_joint_moment"]
    lines.append("Joint ranges (deg): " + ", ".join(f"{j} {lim[i, 0]:g}..{lim[i, 1]:g}" for i, j in enumerate(JOINTS)))
    lines.append(f"Passive joint moments: {pj['moment_at_limit_Nm']} N m at the range limits, e-fold per "
                 f"{math.degrees(1 / pj['stiffness_per_rad']):.1f} deg; damping {pj['damping_Nms_per_rad']} N m s/rad")
    lines += ["", "Muscles (rigid tendon; De Groote 2016 curves). Passive strain e0: fibre strain at which passive "
              "force = F_max.",
              "  name  joints       Fmax N  lopt m   lts m    penn deg  e0    len RMS mm  moment-arm RMS mm"]
    stats = model.geometry.fit_stats
    for i, n in enumerate(MUSCLE_NAMES):
        st = stats.get(n, {})
        joints = "+".join(model.geometry.joints[i])
        ma = ", ".join(f"{j} {v:.2f}" for j, v in _moment_arm_rms(st).items())
        lines.append(f"  {n:5s} {joints:11s} {m.max_force[i]:7.0f} {m.optimal_fiber_length[i]:7.4f} "
                     f"{m.tendon_slack_length[i]:7.4f} {math.degrees(m.pennation[i]):8.1f} {m.passive_strain[i]:5.2f} "
                     f"{_length_rms(st):9.3f}   {ma}")
    lines.append("  (geometry fit errors vs the OpenSim reference, from the packaged fit: "
                 "toolkit/model/data/muscle_geometry.json)")
    return "\n".join(lines)


def _length_rms(st: dict) -> float:
    for k in ("length_rms_mm", "length_rms"):
        if k in st:
            return float(st[k])
    return float("nan")


def _moment_arm_rms(st: dict) -> dict[str, float]:
    v = st.get("moment_arm_rms_mm", {})
    return {k: float(x) for k, x in v.items()} if isinstance(v, dict) else {}
