"""Cross-check the exported .osim model against the toolkit in OpenSim itself (run in a separate interpreter).

opensim and casadi cannot share a process (opensim bundles its own casadi library under the same name), so the
OpenSim side (toolkit/io/osim_probe.py, a plain script) runs in a subprocess of an interpreter that has
`opensim`: $TOOLKIT_OPENSIM_PYTHON if set, else the current interpreter when `import opensim` works in a child
process; `find_opensim_python` returns None when there is none (callers skip).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model.geometry import load_geometry
from ..model.leg import LegModel, Setup, joint_ranges_rad
from ..model.osim_model import OsimModelSpec

PROBE = Path(__file__).resolve().parents[1] / "io" / "osim_probe.py"


def find_opensim_python() -> str | None:
    """An interpreter that can `import opensim`: $TOOLKIT_OPENSIM_PYTHON, else sys.executable if it can; None."""
    candidates = [os.environ.get("TOOLKIT_OPENSIM_PYTHON"), sys.executable]
    for exe in candidates:
        if not exe:
            continue
        try:
            r = subprocess.run([exe, "-c", "import opensim"], capture_output=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return exe
    return None


def run_probe(python: str, request: dict, timeout_s: float = 600.0) -> dict:
    """Run the OpenSim probe script on a request (see osim_probe.py) and return its JSON result."""
    with tempfile.TemporaryDirectory(prefix="osim_probe_") as d:
        req, res = Path(d) / "request.json", Path(d) / "result.json"
        req.write_text(json.dumps(request), encoding="utf-8")
        # cwd: OpenSim writes opensim.log into the working directory.
        r = subprocess.run([python, str(PROBE), str(req), str(res)], capture_output=True, text=True,
                           timeout=timeout_s, cwd=d)
        if r.returncode != 0:
            raise RuntimeError(f"OpenSim probe failed ({python}): {r.stderr.strip()[-2000:]}")
        return json.loads(res.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class CrossCheck:
    """Largest differences between the toolkit and OpenSim on the exported model (SI units)."""

    n_length_poses: int
    n_dynamics_poses: int
    max_length_diff_m: float
    max_moment_arm_diff_m: float
    max_closure_m: float
    max_generalized_force_diff_Nm: float


def random_length_poses(n: int, rng: np.random.Generator) -> np.ndarray:
    """n random joint poses (rad) inside the geometry fit ranges (hip, knee, ankle)."""
    fr = load_geometry().fit_range_deg
    lo = np.radians([fr[j][0] for j in ("hip", "knee", "ankle")])
    hi = np.radians([fr[j][1] for j in ("hip", "knee", "ankle")])
    return lo + (hi - lo) * rng.random((n, 3))


def random_dynamics_poses(model: LegModel, setup: Setup, n: int, rng: np.random.Generator) -> list[dict]:
    """n random closed-chain states: crank angle, a sole angle from a random ankle angle in range, random speeds
    and accelerations of (crank angle, sole angle); each with the toolkit's joint motion and generalized forces."""
    p = setup.leg_params
    lim = joint_ranges_rad()
    out: list[dict] = []
    while len(out) < n:
        th = rng.uniform(0, 2 * math.pi)
        ank = rng.uniform(lim[2, 0] + 0.1, lim[2, 1] - 0.1)
        phi = float(model.fixed_ankle(th, ank, p)[0])
        if not math.isfinite(phi):
            continue
        q = np.asarray(model.pose(th, phi, p)[0]).ravel()
        if not (np.all(q >= lim[:, 0]) and np.all(q <= lim[:, 1])):
            continue
        dth, dph, ddth, ddph = rng.normal(0, [9.4, 3.0, 20.0, 30.0])
        qd, qdd = (np.asarray(v).ravel() for v in model.joint_motion(th, phi, dth, dph, ddth, ddph, p))
        Q = np.asarray(model.inverse_dynamics(th, phi, dth, dph, ddth, ddph, p)).ravel()
        dq = np.asarray(model.pose(th, phi, p)[1])
        out.append({"q": [th, *q], "u": [dth, *qd], "udot": [ddth, *qdd], "Q": Q.tolist(),
                    "J": np.vstack([[1.0, 0.0], dq]).tolist()})
    return out


def crosscheck(python: str, model_file: str | Path, spec: OsimModelSpec, model: LegModel, setup: Setup,
               n_poses: int = 200, seed: int = 0) -> CrossCheck:
    """Compare MTU lengths and moment arms (n_poses random poses in the fit ranges), the pedal closure and the
    inertial + gravity generalized forces (n_poses random closed-chain states, projected on the toolkit's
    minimal coordinates crank angle and sole angle) between the toolkit and OpenSim on the exported model."""
    rng = np.random.default_rng(seed)
    lq = random_length_poses(n_poses, rng)
    dyn = random_dynamics_poses(model, setup, n_poses, rng)
    res = run_probe(python, {"model": str(model_file), "length_poses": lq.tolist(),
                             "dynamics_poses": [{k: d[k] for k in ("q", "u", "udot")} for d in dyn],
                             "cleat_point": list(spec.cleat_point), "spindle_point": list(spec.spindle_point)})
    scale = float(setup.leg_params[-1])
    geo = load_geometry()
    L_tk, R_tk = geo.lengths(lq, scale), geo.moment_arms(lq, scale)
    L_os, R_os = np.asarray(res["lengths"]), np.asarray(res["moment_arms"])
    tau = np.asarray(res["generalized_forces"])
    gen = np.array([np.asarray(d["J"]).T @ t for d, t in zip(dyn, tau)])
    Q = np.array([d["Q"] for d in dyn])
    return CrossCheck(len(lq), len(dyn), float(np.max(np.abs(L_os - L_tk))), float(np.max(np.abs(R_os - R_tk))),
                      float(np.max(np.abs(res["closure"]))), float(np.max(np.abs(gen - Q))))
