"""Write a stand-alone OpenSim Moco script (Python) for the toolkit's pedaling problem on the exported model.

The script (run it with an interpreter that has `opensim`) poses the same problem as the toolkit on the .osim
written next to it (toolkit.io.osim): one periodic crank cycle of the right leg at the cadence, mean crank power of
this leg = half the requested power of both legs (the left leg does the same half a cycle later), the ankle free
within its range or fixed, cost = mean over the cycle of sum_i w_i a_i^exponent (the toolkit's effort term) plus a
small excitation regularization, and periodic activations, excitations and (free ankle) ankle angle and speed.

The isokinetic crank is posed as a flywheel (FLYWHEEL_INERTIA on the crank) braked by a constant torque
P / (2 omega): crank angle 0 -> 2 pi over the period and periodic crank speed, so the mean crank power is exactly
P / 2 and the crank speed stays within a few 1e-4 of the cadence (the script reports it). Bounding the crank speed
to the cadence at every collocation point instead leaves a free load torque per point and over-determines the
constrained dynamics; no such run converged (docs/opensim.md). Hermite-Simpson collocation, implicit multibody
dynamics, the pedal constraint with its derivatives (Posa et al. 2016), Jacobian by finite differences with Moco's
safe (dense-block) sparsity, and IPOPT's barrier parameter capped (an ipopt.opt written next to the script) so
that it cannot jump to values that swamp the small effort cost. With a toolkit solution, its states and controls
tables are the initial guess. The script prints one JSON line (status, iterations, solve time, mean crank power,
crank speed range, joint work shares computed as in toolkit.analysis.power) and writes the Moco solution next to
itself.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..model.leg import joint_ranges_rad
from ..model.muscles import MUSCLE_NAMES
from ..model.osim_model import (COORDINATE_NAMES, CRANK_LOAD_NAME, ORTHOSIS_NAME, ORTHOSIS_OPTIMAL_FORCE,
                                coordinate_path, muscle_osim_name)
from ..ocp.problem import ProblemSpec

MOCO_CONDITIONS = ("free", "fixed")
#: Weight of the excitation regularization (mean of sum e^2), the same order as the toolkit's (e - a)^2 term.
EXCITATION_REGULARIZATION = 1e-3
#: Moment of inertia (kg m^2) given to the crank in the Moco problem: with the constant brake torque it keeps the
#: crank speed within a few 1e-4 of the cadence (the toolkit's crank is isokinetic).
FLYWHEEL_INERTIA = 1000.0
#: IPOPT options the script writes to ipopt.opt next to itself (IPOPT reads ipopt.opt from the working directory).
#: The barrier parameter starts and stays at 1e-6: IPOPT's adaptive strategy otherwise raises it to 1e-4 ... 10
#: when progress stalls, and the barrier terms then outweigh the effort cost (5e-3): the activations climb to 0.5.
#: A small bound push keeps the toolkit's guess (activations and excitations at their floor) where it is.
IPOPT_OPTIONS = {"mu_init": 1e-6, "mu_max": 1e-6, "bound_push": 1e-6, "bound_frac": 1e-6}


@dataclass(frozen=True)
class MocoScriptSpec:
    """The numbers of the Moco problem (SI units). power_W is for both legs; fixed_ankle_rad is used with
    condition 'fixed'; weights per muscle unit (toolkit names); guess_states/guess_controls are file names next
    to the script (or '' for Moco's default guess)."""

    model_file: str
    condition: str
    power_W: float
    cadence_rpm: float
    fixed_ankle_rad: float
    exponent: int
    weights: dict[str, float]
    activation_floor: float
    mesh_intervals: int
    joint_ranges_rad: dict[str, list[float]]
    guess_states: str = ""
    guess_controls: str = ""
    solution_file: str = "moco_solution.sto"
    excitation_regularization: float = EXCITATION_REGULARIZATION
    flywheel_inertia: float = FLYWHEEL_INERTIA
    ipopt_options: dict[str, float] = field(default_factory=lambda: dict(IPOPT_OPTIONS))
    max_iterations: int = 3000
    notes: list[str] = field(default_factory=list)


def moco_spec_from_problem(spec: ProblemSpec, model_file: str, mesh_intervals: int | None = None,
                           guess_states: str = "", guess_controls: str = "") -> MocoScriptSpec:
    """The Moco problem for a toolkit problem spec (conditions free and fixed, isokinetic load, activation cost).
    mesh_intervals defaults to the toolkit's number of nodes. Raises ValueError for what Moco scripts do not
    cover (heel_drop, prescribed, inertial load, stress or metabolic costs, compliant tendon)."""
    if spec.condition not in MOCO_CONDITIONS:
        raise ValueError(f"condition: {spec.condition!r} has no Moco script (allowed: {', '.join(MOCO_CONDITIONS)})")
    if spec.load != "isokinetic":
        raise ValueError(f"load: {spec.load!r} has no Moco script (allowed: isokinetic)")
    if spec.cost.kind != "activation" or spec.cost.metabolic_in_cost or spec.cost.volume_weighted:
        raise ValueError("cost: only the activation cost without volume weighting or metabolic term has a Moco script")
    if spec.tendon != "rigid":
        raise ValueError(f"tendon: {spec.tendon!r} has no Moco script (allowed: rigid)")
    lim = joint_ranges_rad()
    return MocoScriptSpec(
        model_file=model_file, condition=spec.condition, power_W=float(spec.power_W),
        cadence_rpm=float(spec.cadence_rpm), fixed_ankle_rad=math.radians(spec.fixed_ankle_deg),
        exponent=int(spec.cost.exponent), weights=dict(zip(MUSCLE_NAMES, spec.cost.weight_vector())),
        activation_floor=float(spec.activation_floor),
        mesh_intervals=int(mesh_intervals or spec.solver.nodes),
        joint_ranges_rad={c: [float(lim[i, 0]), float(lim[i, 1])] for i, c in enumerate(COORDINATE_NAMES)},
        guess_states=guess_states, guess_controls=guess_controls)


_TEMPLATE = r'''#!/usr/bin/env python
"""OpenSim Moco problem written by pedaling-toolkit (python -m toolkit {command}); edit PROBLEM to vary it.

Run with an interpreter that has opensim (4.5 or later):  python {script_name} [--mesh-intervals N] [--no-guess]
The model (same folder) is the toolkit's right leg on the crank; docs/opensim.md says what differs from the
toolkit (muscle curves, passive fibre force, transcription) and what that does to the joint work shares.
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import opensim as osim

HERE = Path(__file__).resolve().parent
PROBLEM = json.loads(r"""{problem_json}""")
MUSCLES = {muscles!r}
COORDS = {coords!r}
CRANK = "{crank}"
LOAD = "/forceset/{load}"
ORTHOSIS = "{orthosis}"
PASSIVE = {passive!r}


def build(mesh_intervals, use_guess, parallel=1):
    p = PROBLEM
    omega = p["cadence_rpm"] * 2 * math.pi / 60
    period = 60 / p["cadence_rpm"]
    model = osim.Model(str(HERE / p["model_file"]))
    fixed = p["condition"] == "fixed"
    if fixed:
        # The orthosis: whatever ankle moment holds the angle (the toolkit's orthosis_moment), at no cost.
        orthosis = osim.CoordinateActuator("ankle_angle_r")
        orthosis.setName(ORTHOSIS)
        orthosis.setOptimalForce({orthosis_force!r})
        orthosis.setMinControl(-50.0)
        orthosis.setMaxControl(50.0)
        model.addForce(orthosis)
    # Isokinetic crank as a flywheel: a large crank inertia and a constant brake torque (the crank load at a fixed
    # control). Fixing the crank speed by bounds instead over-determines the constrained dynamics (docs/opensim.md).
    fly = p["flywheel_inertia"]
    model.updBodySet().get("crank").setInertia(osim.Inertia(fly, fly, fly))
    model.finalizeConnections()
    study = osim.MocoStudy()
    study.setName("pedaling_" + p["condition"])
    problem = study.updProblem()
    problem.setModelAsCopy(model)
    problem.setTimeBounds(osim.MocoInitialBounds(0.0), osim.MocoFinalBounds(period))
    # One crank revolution from top dead centre in one period, periodic speed (below): mean speed = cadence.
    problem.setStateInfo(CRANK + "/value", [-0.5, 2 * math.pi + 0.5], 0.0, 2 * math.pi)
    problem.setStateInfo(CRANK + "/speed", [0.9 * omega, 1.1 * omega])
    for name, path in COORDS.items():
        lo, hi = p["joint_ranges_rad"][name]
        problem.setStateInfo(path + "/value", [lo, hi])
        problem.setStateInfo(path + "/speed", [-50.0, 50.0])
    ankle = COORDS["ankle_angle_r"]
    if fixed:
        a = p["fixed_ankle_rad"]
        lo, hi = p["joint_ranges_rad"]["ankle_angle_r"]
        problem.setStateInfo(ankle + "/value", [lo, hi], a)  # held by the zero speed below
        problem.setStateInfo(ankle + "/speed", [0.0, 0.0], 0.0, 0.0)
    # Activations from 0: the excitation floor keeps them above it, and a bound at the floor would make IPOPT push
    # the guess's resting muscles off it (and off the pedal constraint's accelerations) before the first step.
    problem.setStateInfoPattern("/forceset/.*/activation", [0.0, 1.0])
    for m in MUSCLES.values():
        problem.setControlInfo("/forceset/" + m, [p["activation_floor"], 1.0])
    # Mean crank power of this leg = half the power of both legs: a constant brake torque P / (2 omega) over one
    # revolution in one period.
    brake = -0.5 * p["power_W"] / omega / osim.CoordinateActuator.safeDownCast(model.getComponent(LOAD)).getOptimalForce()
    problem.setControlInfo(LOAD, [brake, brake])
    if fixed:
        problem.setControlInfo("/forceset/" + ORTHOSIS, [-50.0, 50.0])
    # Cost: mean over the cycle of sum_i w_i a_i^exponent, plus a small excitation regularization.
    for unit, m in MUSCLES.items():
        w = p["weights"][unit]
        if w > 0:
            g = osim.MocoOutputGoal("effort_" + unit, w)
            g.setOutputPath("/forceset/" + m + "|activation")
            g.setExponent(p["exponent"])
            g.setDivideByDuration(True)
            problem.addGoal(g)
    reg = osim.MocoControlGoal("excitation_regularization", p["excitation_regularization"])
    reg.setWeightForControl(LOAD, 0.0)
    if fixed:
        reg.setWeightForControl("/forceset/" + ORTHOSIS, 0.0)
    reg.setDivideByDuration(True)
    problem.addGoal(reg)
    per = osim.MocoPeriodicityGoal("periodicity")
    for m in MUSCLES.values():
        per.addStatePair(osim.MocoPeriodicityGoalPair("/forceset/" + m + "/activation"))
        per.addControlPair(osim.MocoPeriodicityGoalPair("/forceset/" + m))
    per.addStatePair(osim.MocoPeriodicityGoalPair(CRANK + "/speed"))
    if p["condition"] == "free":
        # The pedal constraint makes hip and knee follow from crank and ankle: only the ankle is periodic.
        per.addStatePair(osim.MocoPeriodicityGoalPair(ankle + "/value"))
        per.addStatePair(osim.MocoPeriodicityGoalPair(ankle + "/speed"))
    problem.addGoal(per)
    solver = study.initCasADiSolver()
    solver.set_num_mesh_intervals(mesh_intervals)
    solver.set_transcription_scheme("hermite-simpson")
    # Implicit dynamics: the foot's small inertia makes explicit accelerations very sensitive to the pedal force.
    solver.set_multibody_dynamics_mode("implicit")
    solver.set_kinematic_constraint_method("Posa2016")
    solver.set_enforce_constraint_derivatives(True)
    solver.set_optim_convergence_tolerance(1e-4)
    solver.set_optim_constraint_tolerance(1e-4)
    solver.set_optim_max_iterations(p["max_iterations"])
    # Moco's safe block sparsity: its 'initial-guess' detection probes each input with the others at zero, so
    # it misses how the pedal force (Lagrange multipliers) couples leg and crank, and IPOPT then stalls.
    solver.set_optim_sparsity_detection("none")
    solver.set_optim_finite_difference_scheme("central")
    solver.set_parallel(parallel)
    if use_guess and p["guess_states"]:
        guess = solver.createGuess()
        guess.insertStatesTrajectory(osim.TimeSeriesTable(str(HERE / p["guess_states"])), True)
        if p["guess_controls"]:
            guess.insertControlsTrajectory(osim.TimeSeriesTable(str(HERE / p["guess_controls"])), True)
        guess.setControl(LOAD, osim.Vector(guess.getNumTimes(), brake))
        set_guess_multipliers(model, guess)
        guess.generateAccelerationsFromSpeeds()
        solver.setGuess(guess)
    return study, model


def write_ipopt_options(folder):
    """IPOPT reads ipopt.opt from the working directory: write PROBLEM's options there (see the module notes)."""
    text = "".join(f"{{k}} {{v!r}}\n" for k, v in PROBLEM["ipopt_options"].items())
    (Path(folder) / "ipopt.opt").write_text(text)


def set_guess_multipliers(model, guess):
    """Fill the guess's Lagrange multipliers (pedal constraint forces) from OpenSim's forward dynamics at each
    guess point with its states and controls (zero multipliers make a poor start for the closed loop)."""
    model = osim.Model(model)
    model.initSystem()
    traj = guess.exportToStatesTrajectory(model)
    acts = model.getActuators()
    names = list(guess.getMultiplierNames())
    lam = np.zeros((guess.getNumTimes(), len(names)))
    for i in range(traj.getSize()):
        s = traj.get(i)
        model.realizeVelocity(s)
        u = osim.Vector(acts.getSize(), 0.0)
        for k in range(acts.getSize()):
            u.set(k, guess.getControlMat(acts.get(k).getAbsolutePathString())[i])
        model.setControls(s, u)
        model.realizeAcceleration(s)
        m = s.getMultipliers()
        lam[i] = [m.get(k) for k in range(len(names))]
    for j, n in enumerate(names):
        guess.setMultiplier(n, osim.Vector(lam[:, j].tolist()))


def shares(model, solution):
    """Mean crank power (both legs) and each joint's share of the positive joint work, as the toolkit reports
    them: net joint moment = muscle moments + passive moment, power = moment x angular velocity. The crank power
    is the brake's (its control times its optimal force times the crank speed: the exported states carry no
    controls)."""
    model.initSystem()
    traj = solution.exportToStatesTrajectory(model)
    muscles = [model.getMuscles().get(m) for m in MUSCLES.values()]
    coords = [model.getComponent(c) for c in COORDS.values()]
    passive = [osim.ExpressionBasedCoordinateForce.safeDownCast(model.getComponent("/forceset/" + n))
               for n in PASSIVE]
    load = osim.CoordinateActuator.safeDownCast(model.getComponent(LOAD))
    t, jp = [], []
    for i in range(traj.getSize()):
        s = traj.get(i)
        model.realizeDynamics(s)
        row = []
        for j, c in enumerate(coords):
            mom = sum(m.getTendonForce(s) * m.computeMomentArm(s, c) for m in muscles)
            mom += passive[j].calcExpressionForce(s)
            row.append(mom * c.getSpeedValue(s))
        jp.append(row)
        t.append(s.getTime())
    t, jp = np.array(t), np.array(jp)
    cp = -(np.asarray(solution.getControlMat(LOAD)) * load.getOptimalForce()
           * np.asarray(solution.getStateMat(CRANK + "/speed")))
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    positive = trapezoid(np.maximum(jp, 0.0), t, axis=0)
    total = positive.sum()
    period = t[-1] - t[0]
    return {{"mean_crank_power_W": float(2 * trapezoid(cp, np.asarray(solution.getTimeMat())) / period),
            "joint_work_share": dict(zip(("hip", "knee", "ankle"), (positive / total).tolist()))}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mesh-intervals", type=int, default=PROBLEM["mesh_intervals"])
    ap.add_argument("--no-guess", action="store_true", help="Moco's default guess instead of the toolkit solution")
    ap.add_argument("--out", default=str(HERE / PROBLEM["solution_file"]))
    ap.add_argument("--parallel", type=int, default=1,
                    help="Moco's parallel setting: 0 one thread, 1 all cores (default), N that many threads")
    args = ap.parse_args(argv)
    study, model = build(args.mesh_intervals, not args.no_guess, args.parallel)
    write_ipopt_options(HERE)
    cwd = os.getcwd()
    os.chdir(HERE)  # IPOPT reads ipopt.opt from the working directory
    try:
        t0 = time.perf_counter()
        solution = study.solve()
        wall = time.perf_counter() - t0
    finally:
        os.chdir(cwd)
    ok = solution.success()
    if not ok:
        solution.unseal()
    solution.write(args.out)
    out = {{"success": bool(ok), "status": solution.getStatus(), "iterations": int(solution.getNumIterations()),
           "solve_time_s": float(solution.getSolverDuration()), "wall_time_s": wall,
           "objective": float(solution.getObjective()), "mesh_intervals": args.mesh_intervals,
           "condition": PROBLEM["condition"], "power_W": PROBLEM["power_W"], "cadence_rpm": PROBLEM["cadence_rpm"],
           "solution_file": args.out}}
    out["effort"] = float(sum(solution.getObjectiveTerm(n) for n in solution.getObjectiveTermNames()
                              if n.startswith("effort_")))
    speed = np.asarray(solution.getStateMat(CRANK + "/speed")) * 60 / (2 * math.pi)
    out["crank_speed_range_rpm"] = [float(speed.min()), float(speed.max())]
    if ok:
        out.update(shares(model, solution))
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
'''


def moco_script(spec: MocoScriptSpec, script_name: str = "moco_pedaling.py", command: str = "model --moco") -> str:
    """The text of the Moco script for a problem (see the module docstring)."""
    from ..model.osim_model import JOINT_OF_COORDINATE, CRANK_COORDINATE

    muscles = {m: muscle_osim_name(m) for m in MUSCLE_NAMES}
    coords = {c: coordinate_path(c) for c in COORDINATE_NAMES}
    passive = [f"passive_{JOINT_OF_COORDINATE[c]}" for c in COORDINATE_NAMES]
    return _TEMPLATE.format(command=command, script_name=script_name,
                            problem_json=json.dumps(asdict(spec), indent=1), muscles=muscles, coords=coords,
                            crank=coordinate_path(CRANK_COORDINATE), load=CRANK_LOAD_NAME, passive=passive,
                            orthosis=ORTHOSIS_NAME, orthosis_force=ORTHOSIS_OPTIMAL_FORCE)


def write_moco_script(spec: MocoScriptSpec, path, command: str = "model --moco") -> Path:
    """Write the Moco script; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(moco_script(spec, path.name, command), encoding="utf-8")
    return path
