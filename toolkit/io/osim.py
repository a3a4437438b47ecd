"""Write the toolkit's model as an OpenSim 4.x model file (.osim XML, plain text; opensim is not imported) and a
solution as OpenSim state and control tables for that model.

The numbers come from toolkit.model.osim_model.osim_model_spec (frames, bodies, joints, muscle polynomials,
passive moments, pedal constraint); this module only formats them. Floats are written with repr(), the shortest
text that reads back as the same double, so the file carries the toolkit's values exactly.

Tables written by export_osim_trajectory(sol, directory, stem), time = crank angle / crank speed (s), inDegrees=no:
- <stem>_osim_states.sto: every state of the exported model (coordinate values in rad and speeds in rad/s as
  /jointset/<joint>/<coordinate>/value|speed, including the crank, and muscle activations
  /forceset/<MUSCLE>_r/activation); OpenSim's StatesTrajectory.createFromStatesTable and Moco's
  MocoTrajectory.insertStatesTrajectory read it with the model.
- <stem>_osim_controls.sto: muscle excitations /forceset/<MUSCLE>_r and the crank load control
  /forceset/crank_load (load torque on the crank / its optimal force: minus this leg's crank torque); with a
  fixed ankle also /forceset/ankle_orthosis (the orthosis moment / its optimal force), an actuator that the Moco
  script adds to hold the ankle (the .osim itself has none).
"""
from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from ..model.muscles import MUSCLE_NAMES
from ..model.osim_model import (COORDINATE_NAMES, CRANK_COORDINATE, CRANK_LOAD_NAME, ORTHOSIS_NAME,
                                ORTHOSIS_OPTIMAL_FORCE, OsimModelSpec, OsimMuscle, OsimPinJoint, coordinate_path,
                                muscle_osim_name)
from .sto import write_sto

OSIM_DOCUMENT_VERSION = "40600"


def _num(x: float) -> str:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"osim: non-finite number {x!r} in the model")
    return repr(x)


def _vec(v) -> str:
    return " ".join(_num(x) for x in v)


def _offset_frame(name: str, parent_path: str, location, orientation, ind: str) -> list[str]:
    return [f'{ind}<PhysicalOffsetFrame name="{name}">',
            f"{ind}\t<socket_parent>{parent_path}</socket_parent>",
            f"{ind}\t<translation>{_vec(location)}</translation>",
            f"{ind}\t<orientation>{_vec(orientation)}</orientation>",
            f"{ind}</PhysicalOffsetFrame>"]


def _frame_path(body: str) -> str:
    return "/ground" if body == "ground" else f"/bodyset/{body}"


def _pin_joint(j: OsimPinJoint, ind: str) -> list[str]:
    pname, cname = f"{j.parent}_offset", f"{j.child}_offset"
    out = [f'{ind}<PinJoint name="{j.name}">',
           f"{ind}\t<socket_parent_frame>{pname}</socket_parent_frame>",
           f"{ind}\t<socket_child_frame>{cname}</socket_child_frame>",
           f"{ind}\t<coordinates>",
           f'{ind}\t\t<Coordinate name="{j.coordinate}">',
           f"{ind}\t\t\t<default_value>{_num(j.default_value)}</default_value>",
           f"{ind}\t\t\t<range>{_vec(j.range)}</range>",
           f"{ind}\t\t\t<clamped>false</clamped>",
           f"{ind}\t\t</Coordinate>",
           f"{ind}\t</coordinates>",
           f"{ind}\t<frames>"]
    out += _offset_frame(pname, _frame_path(j.parent), j.parent_location, j.parent_orientation, ind + "\t\t")
    out += _offset_frame(cname, _frame_path(j.child), j.child_location, j.child_orientation, ind + "\t\t")
    return out + [f"{ind}\t</frames>", f"{ind}</PinJoint>"]


def _muscle(m: OsimMuscle, ind: str) -> list[str]:
    paths = " ".join(coordinate_path(c) for c in m.path.coordinates)
    props = [("min_control", m.min_control), ("max_control", 1.0), ("max_isometric_force", m.max_isometric_force),
             ("optimal_fiber_length", m.optimal_fiber_length), ("tendon_slack_length", m.tendon_slack_length),
             ("pennation_angle_at_optimal", m.pennation_angle_at_optimal),
             ("max_contraction_velocity", m.max_contraction_velocity)]
    out = [f'{ind}<DeGrooteFregly2016Muscle name="{m.name}">']
    out += [f"{ind}\t<{k}>{_num(v)}</{k}>" for k, v in props[:2]]
    out += [f'{ind}\t<FunctionBasedPath name="path">',
            f"{ind}\t\t<coordinate_paths>{paths}</coordinate_paths>",
            f"{ind}\t\t<length_function>",
            f"{ind}\t\t\t<MultivariatePolynomialFunction>",
            f"{ind}\t\t\t\t<coefficients>{_vec(m.path.coefficients)}</coefficients>",
            f"{ind}\t\t\t\t<dimension>{len(m.path.coordinates)}</dimension>",
            f"{ind}\t\t\t\t<order>{m.path.order}</order>",
            f"{ind}\t\t\t</MultivariatePolynomialFunction>",
            f"{ind}\t\t</length_function>",
            f"{ind}\t</FunctionBasedPath>"]
    out += [f"{ind}\t<{k}>{_num(v)}</{k}>" for k, v in props[2:]]
    tail = [("ignore_tendon_compliance", "true"), ("ignore_activation_dynamics", "false"),
            ("activation_time_constant", _num(m.activation_time_constant)),
            ("deactivation_time_constant", _num(m.deactivation_time_constant)),
            ("default_activation", _num(m.default_activation)),
            ("passive_fiber_strain_at_one_norm_force", _num(m.passive_fiber_strain_at_one_norm_force)),
            ("tendon_strain_at_one_norm_force", _num(m.tendon_strain_at_one_norm_force)),
            ("ignore_passive_fiber_force", "false"), ("fiber_damping", "0"),
            # The toolkit's activation dynamics use the same tanh switch with slope 10 (data/muscle_curves.toml).
            ("activation_dynamics_smoothing", "10")]
    out += [f"{ind}\t<{k}>{v}</{k}>" for k, v in tail]
    return out + [f"{ind}</DeGrooteFregly2016Muscle>"]


def osim_xml(spec: OsimModelSpec) -> str:
    """The .osim document (OpenSim 4.x XML) of a model spec, as text."""
    t = "\t"
    lines = ['<?xml version="1.0" encoding="UTF-8" ?>', f'<OpenSimDocument Version="{OSIM_DOCUMENT_VERSION}">',
             f'{t}<Model name="{escape(spec.name)}">',
             f"{t * 2}<credits>{escape(spec.credits)}</credits>",
             f"{t * 2}<publications>{escape(spec.notes)}</publications>",
             f"{t * 2}<length_units>meters</length_units>",
             f"{t * 2}<force_units>N</force_units>",
             f"{t * 2}<gravity>{_vec(spec.gravity)}</gravity>",
             f'{t * 2}<Ground name="ground" />',
             f'{t * 2}<BodySet name="bodyset">', f"{t * 3}<objects>"]
    for b in spec.bodies:
        lines += [f'{t * 4}<Body name="{b.name}">', f"{t * 5}<mass>{_num(b.mass)}</mass>",
                  f"{t * 5}<mass_center>{_vec(b.com)}</mass_center>",
                  f"{t * 5}<inertia>{_vec(b.inertia)} 0 0 0</inertia>", f"{t * 4}</Body>"]
    lines += [f"{t * 3}</objects>", f"{t * 3}<groups />", f"{t * 2}</BodySet>",
              f'{t * 2}<JointSet name="jointset">', f"{t * 3}<objects>",
              f'{t * 4}<WeldJoint name="pelvis_weld">',
              f"{t * 5}<socket_parent_frame>ground_offset</socket_parent_frame>",
              f"{t * 5}<socket_child_frame>pelvis_offset</socket_child_frame>",
              f"{t * 5}<frames>"]
    lines += _offset_frame("ground_offset", "/ground", spec.pelvis_location, spec.pelvis_orientation, t * 6)
    lines += _offset_frame("pelvis_offset", "/bodyset/pelvis", (0, 0, 0), (0, 0, 0), t * 6)
    lines += [f"{t * 5}</frames>", f"{t * 4}</WeldJoint>"]
    for j in spec.joints:
        lines += _pin_joint(j, t * 4)
    lines += [f"{t * 3}</objects>", f"{t * 3}<groups />", f"{t * 2}</JointSet>",
              f'{t * 2}<ConstraintSet name="constraintset">', f"{t * 3}<objects>",
              f'{t * 4}<PointOnLineConstraint name="pedal_r">',
              f"{t * 5}<socket_line_body>/bodyset/crank</socket_line_body>",
              f"{t * 5}<socket_follower_body>/bodyset/foot_r</socket_follower_body>",
              f"{t * 5}<line_direction_vec>0 0 1</line_direction_vec>",
              f"{t * 5}<point_on_line>{_vec(spec.spindle_point)}</point_on_line>",
              f"{t * 5}<point_on_follower>{_vec(spec.cleat_point)}</point_on_follower>",
              f"{t * 4}</PointOnLineConstraint>",
              f"{t * 3}</objects>", f"{t * 3}<groups />", f"{t * 2}</ConstraintSet>",
              f'{t * 2}<ForceSet name="forceset">', f"{t * 3}<objects>"]
    for m in spec.muscles:
        lines += _muscle(m, t * 4)
    for p in spec.passive:
        lines += [f'{t * 4}<ExpressionBasedCoordinateForce name="{p.name}">',
                  f"{t * 5}<coordinate>{p.coordinate}</coordinate>",
                  f"{t * 5}<expression>{escape(p.expression)}</expression>",
                  f"{t * 4}</ExpressionBasedCoordinateForce>"]
    lines += [f'{t * 4}<CoordinateActuator name="{CRANK_LOAD_NAME}">',
              f"{t * 5}<min_control>-Inf</min_control>", f"{t * 5}<max_control>Inf</max_control>",
              f"{t * 5}<coordinate>{CRANK_COORDINATE}</coordinate>",
              f"{t * 5}<optimal_force>{_num(spec.crank_load_optimal_force)}</optimal_force>",
              f"{t * 4}</CoordinateActuator>",
              f"{t * 3}</objects>", f"{t * 3}<groups />", f"{t * 2}</ForceSet>",
              f"{t}</Model>", "</OpenSimDocument>", ""]
    return "\n".join(lines)


def write_osim(spec: OsimModelSpec, path) -> Path:
    """Write the model file; returns its path (parent directories are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(osim_xml(spec), encoding="utf-8")
    return path


def state_columns() -> list[str]:
    """The state names of the exported model, in the order of the states table."""
    cols = []
    for c in (CRANK_COORDINATE, *COORDINATE_NAMES):
        cols += [f"{coordinate_path(c)}/value", f"{coordinate_path(c)}/speed"]
    return cols + [f"/forceset/{muscle_osim_name(m)}/activation" for m in MUSCLE_NAMES]


def control_columns(orthosis: bool = False) -> list[str]:
    """The control names of the exported model (muscles, then the crank load; then the ankle orthosis that the
    Moco script adds for a fixed ankle), in the order of the table."""
    cols = [f"/forceset/{muscle_osim_name(m)}" for m in MUSCLE_NAMES] + [f"/forceset/{CRANK_LOAD_NAME}"]
    return cols + ([f"/forceset/{ORTHOSIS_NAME}"] if orthosis else [])


def trajectory_tables(sol, load_optimal_force: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, states, controls) of a solution at its nodes plus a closing row at the end of the cycle (the first
    node's values with the crank angle advanced by 2 pi), in state_columns / control_columns order."""
    theta = np.asarray(sol["theta"], dtype=float)
    n = theta.size

    def close(v):
        v = np.asarray(v, dtype=float)
        return np.concatenate([v, v[..., :1]], axis=-1)

    th = np.append(theta, theta[0] + 2 * math.pi)
    speed = close(sol.arrays.get("crank_speed", np.full(n, sol.spec.omega)))
    time = np.append(sol.time, sol.period_s) if len(sol.time) == n else th / sol.spec.omega
    q, qd = close(sol["q"]), close(sol["qdot"])
    cols = [th, speed]
    for i in range(3):
        cols += [q[i], qd[i]]
    act = close(sol["activation"])
    states = np.column_stack(cols + [act[i] for i in range(len(MUSCLE_NAMES))])
    exc = close(sol["excitation"])
    load = -close(sol["crank_torque"]) / load_optimal_force
    extra = [close(sol["orthosis_moment"]) / ORTHOSIS_OPTIMAL_FORCE] if _has_orthosis(sol) else []
    controls = np.column_stack([exc[i] for i in range(len(MUSCLE_NAMES))] + [load] + extra)
    return time, states, controls


def _has_orthosis(sol) -> bool:
    return sol.spec.condition == "fixed" and "orthosis_moment" in sol.arrays


def export_osim_trajectory(sol, directory, stem: str, load_optimal_force: float,
                           allow_unsolved: bool = False) -> list[Path]:
    """Write <stem>_osim_states.sto and <stem>_osim_controls.sto for the exported model (module docstring).
    allow_unsolved: also write an unsealed trajectory that is not a successful solve (an initial guess)."""
    if sol.sealed or not (sol.stats.success or allow_unsolved):
        raise ValueError(f"export_osim_trajectory: the solve did not succeed ({sol.stats.summary()})")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    time, states, controls = trajectory_tables(sol, load_optimal_force)
    return [write_sto(out / f"{stem}_osim_states.sto", f"{stem}_osim_states", state_columns(), time, states,
                      False, digits=17),
            write_sto(out / f"{stem}_osim_controls.sto", f"{stem}_osim_controls", control_columns(_has_orthosis(sol)),
                      time, controls,
                      False, digits=17)]
