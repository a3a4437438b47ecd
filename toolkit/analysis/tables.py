"""A solution's time series as one table on a crank-angle grid (columns with units in their names)."""
from __future__ import annotations

import numpy as np

from ..model.leg import JOINTS
from ..model.muscles import MUSCLE_NAMES
from .cycle_curves import normalized_fibre_length
from .pedal import radial_force, resultant_force, tangential_force
from .power import joint_power
from .resample import crank_angle_grid, resample_periodic


def crank_angle_table(sol, step_deg: float = 1.0) -> dict[str, np.ndarray]:
    """{column: values on crank_angle_deg} (0 to 360 deg inclusive): joint angles (deg), angular velocities
    (deg/s), net moments (N m), powers (W), sole angle (deg), pedal forces (N), crank torque (N m), and per
    muscle activation, excitation, force (N) and normalized fibre length (l / l_opt). Periodic spline through
    the mesh nodes (exact at the nodes)."""
    grid = crank_angle_grid(step_deg)
    th = sol["theta"]

    def on_grid(v):
        return resample_periodic(th, np.asarray(v, dtype=float), grid)

    out: dict[str, np.ndarray] = {"crank_angle_deg": grid}
    q, qd, m, p = np.degrees(sol["q"]), np.degrees(sol["qdot"]), sol["moment"], joint_power(sol)
    for i, j in enumerate(JOINTS):
        out[f"{j}_angle_deg"] = on_grid(q[i])
        out[f"{j}_velocity_deg_s"] = on_grid(qd[i])
        out[f"{j}_moment_Nm"] = on_grid(m[i])
        out[f"{j}_power_W"] = on_grid(p[i])
    out["sole_angle_deg"] = on_grid(np.degrees(sol["phi"]))
    out["pedal_force_tangential_N"] = on_grid(tangential_force(sol))
    out["pedal_force_radial_N"] = on_grid(radial_force(sol))
    out["pedal_force_resultant_N"] = on_grid(resultant_force(sol))
    out["crank_torque_Nm"] = on_grid(sol["crank_torque"])
    lnorm = normalized_fibre_length(sol)
    for k, n in enumerate(MUSCLE_NAMES):
        out[f"{n}_activation"] = on_grid(sol["activation"][k])
        out[f"{n}_excitation"] = on_grid(sol["excitation"][k])
        out[f"{n}_force_N"] = on_grid(sol["force"][k])
        out[f"{n}_fiber_length_norm"] = on_grid(lnorm[k])
    return out
