"""Export one solution as OpenSim storage (.sto) tables, to look at it with tools users know.

Format (OpenSim Storage, version 1), one file per table, tab-separated:

    <table name>
    version=1
    nRows=<data rows>
    nColumns=<columns including time>
    inDegrees=yes|no
    endheader
    time    <column>    <column> ...
    0       ...

Time = crank angle / crank angular velocity (s), 0 at top dead centre. The rows are the solution's nodes plus
a closing row at the end of the cycle (the first node's values at t = period), so a viewer can loop the cycle;
`crank_step_deg` resamples onto a uniform crank-angle grid instead (periodic spline).

Tables written by export_sto(sol, directory, stem) (right leg, toolkit sign conventions, SI units unless noted):
- <stem>_states.sto (inDegrees=yes): crank_angle, sole_angle (deg, toe-down +), coordinates hip_flexion_r,
  knee_angle_r, ankle_angle_r (deg; hip flexion +, knee flexion + (as in Rajagopal et al. 2016), ankle
  dorsiflexion +), their speeds <coordinate>_speed (deg/s), and <MUSCLE>_activation (0-1).
- <stem>_controls.sto (inDegrees=no): muscle excitations, one column per muscle (GMAX ... TA).
- <stem>_joints.sto: net joint moments <coordinate>_moment (N m) and joint powers <coordinate>_power (W),
  crank_power (W, this leg).
- <stem>_muscles.sto: <MUSCLE>_force (tendon force, N), <MUSCLE>_fiber_length (m), <MUSCLE>_fiber_velocity
  (m/s, lengthening +), <MUSCLE>_fiber_power (W, concentric +).
- <stem>_pedal.sto: the force of the foot on the pedal as an OpenSim external-force triple
  pedal_force_vx/vy/vz (N; global x forward, y up, z = 0) applied at pedal_force_px/py/pz (pedal spindle, m,
  origin at the bottom bracket; the reaction on the foot is the negative), pedal_tangential_force and
  pedal_radial_force (N), crank_torque (this leg) and crank_torque_both_legs (N m).
The model is planar and not an OpenSim model: coordinate names follow OpenSim's conventions so tables can be
plotted or mapped, but they do not drive a particular .osim file as is.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..model.muscles import MUSCLE_NAMES

COORDINATES = ("hip_flexion_r", "knee_angle_r", "ankle_angle_r")
_STEM_OK = re.compile(r"^[A-Za-z0-9_.=,+@-]+$")


def safe_stem(text: str) -> str:
    """A file-name-safe version of a point key (characters outside [A-Za-z0-9_.=,+@-] become '_')."""
    s = re.sub(r"[^A-Za-z0-9_.=,+@-]+", "_", text).strip("._")
    return s or "point"


def write_sto(path, name: str, columns: Sequence[str], time: np.ndarray, data: np.ndarray,
              in_degrees: bool, digits: int = 10) -> Path:
    """Write one OpenSim storage file. data: (rows, len(columns)) without the time column; numbers with `digits`
    significant digits (17 reads back as the same double)."""
    path = Path(path)
    data = np.asarray(data, dtype=float).reshape(len(time), len(columns))
    header = [name, "version=1", f"nRows={len(time)}", f"nColumns={len(columns) + 1}",
              f"inDegrees={'yes' if in_degrees else 'no'}", "endheader", "\t".join(("time", *columns))]
    lines = ["\t".join(f"{v:.{digits}g}" for v in (t, *row)) for t, row in zip(time, data)]
    path.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    return path


def read_sto(path) -> tuple[dict[str, str], list[str], np.ndarray]:
    """Parse a storage file written by write_sto (or any simple version-1 .sto): (header key/values incl.
    'name', column labels incl. 'time', data array rows x columns)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    meta: dict[str, str] = {"name": lines[0].strip()}
    i = 1
    while lines[i].strip() != "endheader":
        if "=" in lines[i]:
            k, v = lines[i].split("=", 1)
            meta[k.strip()] = v.strip()
        i += 1
    labels = lines[i + 1].split("\t")
    rows = [[float(x) for x in ln.split("\t")] for ln in lines[i + 2:] if ln.strip()]
    return meta, labels, np.array(rows, dtype=float).reshape(len(rows), len(labels))


def _grid(sol, crank_step_deg: float | None) -> tuple[np.ndarray, Callable]:
    """Crank angles (rad) of the exported rows and a function mapping node arrays (..., N) to them."""
    theta = np.asarray(sol["theta"], dtype=float)
    if crank_step_deg is None:
        th = np.append(theta, theta[0] + 2 * math.pi)

        def f(v):
            v = np.asarray(v, dtype=float)
            return np.concatenate([v, v[..., :1]], axis=-1)
        return th, f
    from ..analysis.resample import crank_angle_grid, resample_periodic

    deg = crank_angle_grid(crank_step_deg)
    return np.radians(deg), (lambda v: resample_periodic(theta, v, deg))


def export_sto(sol, directory, stem: str, crank_step_deg: float | None = None) -> list[Path]:
    """Write the states, controls, joints, muscles and pedal tables of one solution; returns the paths."""
    from ..analysis.muscle_power import fibre_power
    from ..analysis.pedal import both_legs_crank_torque, crank_length, radial_force, tangential_force
    from ..analysis.power import crank_power, joint_power

    if sol.sealed or not sol.stats.success:
        raise ValueError(f"export_sto: the solve did not succeed ({sol.stats.summary()}); nothing to export")
    if not _STEM_OK.match(stem):
        raise ValueError(f"export_sto: stem {stem!r} (allowed: letters, digits and _.=,+@-; see safe_stem)")
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    th, g = _grid(sol, crank_step_deg)
    time = sol.time if len(th) == sol.nodes else th / sol.spec.omega
    deg = np.degrees

    def table(suffix: str, cols: list[tuple[str, np.ndarray]], in_degrees: bool) -> Path:
        names = [c for c, _ in cols]
        data = np.column_stack([np.asarray(v, dtype=float) for _, v in cols])
        return write_sto(out_dir / f"{stem}_{suffix}.sto", f"{stem}_{suffix}", names, time, data, in_degrees)

    q, qdot = g(sol["q"]), g(sol["qdot"])
    states = [("crank_angle", deg(th)), ("sole_angle", deg(g(sol["phi"])))]
    states += [(c, deg(q[i])) for i, c in enumerate(COORDINATES)]
    states += [(f"{c}_speed", deg(qdot[i])) for i, c in enumerate(COORDINATES)]
    act = g(sol["activation"])
    states += [(f"{m}_activation", act[i]) for i, m in enumerate(MUSCLE_NAMES)]

    exc = g(sol["excitation"])
    controls = [(m, exc[i]) for i, m in enumerate(MUSCLE_NAMES)]

    mom, pw = g(sol["moment"]), g(joint_power(sol))
    joints = [(f"{c}_moment", mom[i]) for i, c in enumerate(COORDINATES)]
    joints += [(f"{c}_power", pw[i]) for i, c in enumerate(COORDINATES)]
    joints += [("crank_power", g(crank_power(sol)))]

    F, lm, vm, fp = g(sol["force"]), g(sol["fiber_length"]), g(sol["fiber_velocity"]), g(fibre_power(sol))
    muscles = []
    for i, m in enumerate(MUSCLE_NAMES):
        muscles += [(f"{m}_force", F[i]), (f"{m}_fiber_length", lm[i]), (f"{m}_fiber_velocity", vm[i]),
                    (f"{m}_fiber_power", fp[i])]

    pf = g(sol["pedal_force"])
    c = crank_length(sol)
    zeros = np.zeros_like(th)
    pedal = [("pedal_force_vx", pf[0]), ("pedal_force_vy", pf[1]), ("pedal_force_vz", zeros),
             ("pedal_force_px", c * np.sin(th)), ("pedal_force_py", c * np.cos(th)), ("pedal_force_pz", zeros),
             ("pedal_tangential_force", g(tangential_force(sol))), ("pedal_radial_force", g(radial_force(sol))),
             ("crank_torque", g(sol["crank_torque"])), ("crank_torque_both_legs", g(both_legs_crank_torque(sol)))]

    return [table("states", states, True), table("controls", controls, False), table("joints", joints, False),
            table("muscles", muscles, False), table("pedal", pedal, False)]


def export_many(solutions: Iterable[tuple[str, object]], directory) -> list[Path]:
    """export_sto for several (key, solution) pairs, stems from safe_stem(key) (made unique)."""
    paths: list[Path] = []
    used: set[str] = set()
    for key, sol in solutions:
        stem = base = safe_stem(key)
        k = 2
        while stem in used:
            stem, k = f"{base}_{k}", k + 1
        used.add(stem)
        paths += export_sto(sol, directory, stem)
    return paths
