"""OpenSim side of the cross-checks: run with an interpreter that has `opensim` (never imported by the toolkit).

    python osim_probe.py REQUEST.json RESULT.json

REQUEST: {"model": path, "length_poses": [[hip, knee, ankle], ...] (rad),
          "dynamics_poses": [{"q": [crank, hip, knee, ankle], "u": [...], "udot": [...]}, ...],
          "cleat_point": [x, y, z], "spindle_point": [x, y, z],
          "states": path to a states .sto (optional), "controls": path to a controls .sto (optional),
          "curves": {"fiber_lengths": [...], "fiber_velocities": [...], "tendon_lengths": [...]} (optional,
          normalized)}
RESULT: {"lengths": N x 9, "moment_arms": N x 9 x 3 (computeMomentArm, hip/knee/ankle),
         "generalized_forces": M x 4 (InverseDynamicsSolver with every force switched off: inertial + gravity
         generalized forces, order crank, hip, knee, ankle), "closure": M x 3 (cleat point minus spindle in ground),
         "playback": {...} when states are given: per row the constraint error, MTU lengths and tendon forces,
         "curves": {"active", "passive", "tendon": 9 x n (each muscle's calcActiveForceLengthMultiplier,
         calcPassiveForceMultiplier, calcTendonForceMultiplier with its properties from the file),
         "force_velocity": n (the static calcForceVelocityMultiplier)} when curves are asked for}.
This file is plain Python with no toolkit imports, so any OpenSim interpreter can run it as a script.
"""
import json
import sys

COORDS = ("/jointset/crank_bb/crank_angle", "/jointset/hip_r/hip_flexion_r", "/jointset/knee_r/knee_angle_r",
          "/jointset/ankle_r/ankle_angle_r")
MUSCLES = ("GMAX_r", "ILIO_r", "HAMS_r", "BFSH_r", "RF_r", "VAS_r", "GAS_r", "SOL_r", "TA_r")


def _model(path, forces_on):
    import opensim as osim

    model = osim.Model(path)
    if not forces_on:
        fs = model.updForceSet()
        for i in range(fs.getSize()):
            fs.get(i).set_appliesForce(False)
    state = model.initSystem()
    return osim, model, state


def _coords(model):
    return [model.getComponent(p) for p in COORDS]


def lengths_and_moment_arms(path, poses):
    osim, model, s = _model(path, True)
    coords = _coords(model)
    muscles = [model.getMuscles().get(m) for m in MUSCLES]
    L, R = [], []
    for q in poses:
        for c, v in zip(coords[1:], q):
            c.setValue(s, float(v), False)
        model.realizePosition(s)
        L.append([m.getLength(s) for m in muscles])
        R.append([[m.computeMomentArm(s, c) for c in coords[1:]] for m in muscles])
    return L, R


def dynamics(path, poses, cleat, spindle):
    osim, model, s = _model(path, False)
    coords = _coords(model)
    # Mobility (u) index of each coordinate: set distinct speeds and read them back.
    for i, c in enumerate(coords):
        c.setSpeedValue(s, float(i + 1))
    u = s.getU()
    index = [next(k for k in range(u.size()) if abs(u.get(k) - (i + 1)) < 1e-12) for i in range(len(coords))]
    solver = osim.InverseDynamicsSolver(model)
    foot = model.getBodySet().get("foot_r")
    crank = model.getBodySet().get("crank")
    out_f, out_c = [], []
    for pose in poses:
        for c, q, v in zip(coords, pose["q"], pose["u"]):
            c.setValue(s, float(q), False)
            c.setSpeedValue(s, float(v))
        model.realizeVelocity(s)
        udot = osim.Vector(u.size(), 0.0)
        for k, a in zip(index, pose["udot"]):
            udot.set(k, float(a))
        tau = solver.solve(s, udot)
        out_f.append([tau.get(k) for k in index])
        p1 = foot.findStationLocationInGround(s, osim.Vec3(*cleat))
        p2 = crank.findStationLocationInGround(s, osim.Vec3(*spindle))
        out_c.append([p1.get(i) - p2.get(i) for i in range(3)])
    return out_f, out_c


def playback(path, states_file):
    osim, model, s = _model(path, True)
    table = osim.TimeSeriesTable(states_file)
    traj = osim.StatesTrajectory.createFromStatesTable(model, table)
    muscles = [model.getMuscles().get(m) for m in MUSCLES]
    rows = {"time": [], "qerr": [], "lengths": [], "tendon_forces": []}
    for i in range(traj.getSize()):
        st = traj.get(i)
        model.realizeDynamics(st)
        qerr = st.getQErr()
        rows["time"].append(st.getTime())
        rows["qerr"].append(max([abs(qerr.get(k)) for k in range(qerr.size())] or [0.0]))
        rows["lengths"].append([m.getLength(st) for m in muscles])
        rows["tendon_forces"].append([m.getTendonForce(st) for m in muscles])
    return rows


def curves(path, req):
    osim, model, _ = _model(path, True)
    dg = osim.DeGrooteFregly2016Muscle
    muscles = [dg.safeDownCast(model.getMuscles().get(m)) for m in MUSCLES]
    out = {"active": [[m.calcActiveForceLengthMultiplier(x) for x in req["fiber_lengths"]] for m in muscles],
           "passive": [[m.calcPassiveForceMultiplier(x) for x in req["fiber_lengths"]] for m in muscles],
           "tendon": [[m.calcTendonForceMultiplier(x) for x in req["tendon_lengths"]] for m in muscles],
           "force_velocity": [dg.calcForceVelocityMultiplier(v) for v in req["fiber_velocities"]]}
    return out


def main(argv):
    with open(argv[1]) as fh:
        req = json.load(fh)
    out = {}
    if req.get("length_poses"):
        out["lengths"], out["moment_arms"] = lengths_and_moment_arms(req["model"], req["length_poses"])
    if req.get("dynamics_poses"):
        out["generalized_forces"], out["closure"] = dynamics(req["model"], req["dynamics_poses"],
                                                              req["cleat_point"], req["spindle_point"])
    if req.get("states"):
        out["playback"] = playback(req["model"], req["states"])
    if req.get("curves"):
        out["curves"] = curves(req["model"], req["curves"])
    with open(argv[2], "w") as fh:
        json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
