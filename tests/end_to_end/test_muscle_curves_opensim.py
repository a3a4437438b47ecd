"""rider.muscle_curves = "opensim" end to end: a toolkit solution with OpenSim's curves, exported and played back in
OpenSim (needs $TOOLKIT_OPENSIM_PYTHON), has the toolkit's tendon forces wherever no unit is slack."""
from __future__ import annotations

import numpy as np
import pytest

from toolkit.check.opensim import find_opensim_python, run_probe
from toolkit.io.osim import export_osim_trajectory, write_osim
from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import make_setup
from toolkit.model.osim_model import osim_model_spec
from toolkit.ocp.problem import ProblemSpec, SolverSpec


@pytest.mark.opensim
def test_opensim_curves_play_back_exactly(solver, model, tmp_path):
    exe = find_opensim_python()
    if exe is None:
        pytest.skip("no interpreter with opensim (set TOOLKIT_OPENSIM_PYTHON)")
    setup = make_setup(model, Rider(muscle_curves="opensim"), BikeFit())
    sol = solver.solve(setup, ProblemSpec(condition="free", power_W=200, solver=SolverSpec(nodes=16)))
    assert sol.success
    spec = osim_model_spec(setup)
    f = write_osim(spec, tmp_path / "leg.osim")
    states, _ = export_osim_trajectory(sol, tmp_path, "p", spec.crank_load_optimal_force)
    pb = run_probe(exe, {"model": str(f), "states": str(states)})["playback"]
    F = np.asarray(pb["tendon_forces"])[:-1].T
    fmax = np.array([m.max_isometric_force for m in spec.muscles])[:, None]
    # Slack units (fibre projection l_mtu - l_ts within a few clamp widths of zero) are where the toolkit's smooth
    # clamp differs from OpenSim's rigid tendon; everywhere else the forces agree to round-off.
    lts = np.array([m.tendon_slack_length for m in spec.muscles])[:, None]
    taut = sol["mtu_length"] - lts > 0.012
    assert taut.mean() > 0.9
    assert np.max(np.abs(F - sol["force"])[taut] / np.broadcast_to(fmax, F.shape)[taut]) < 1e-9
