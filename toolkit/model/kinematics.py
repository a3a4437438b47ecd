"""Closed leg-crank chain kinematics as casadi expressions (planar, right-side view, SI units).

Generalized coordinates of one leg: crank angle theta (0 = TDC, increasing in the pedaling direction, so the
pedal spindle is at (c sin(theta), c cos(theta))) and sole angle phi (shoe sole vs horizontal, toe-down +).
Given both, the ankle follows from the foot, and the knee from analytic two-link inverse kinematics
(knee in front of the hip-ankle line), so the chain is closed by construction. With an immobilized ankle the
shank and foot form one body, and phi becomes a function of theta (`sole_angle_fixed_ankle`).

Joint angles: hip flexion + (thigh vs pelvis -y axis), knee flexion + (0 = straight), ankle dorsiflexion +
(0 = sole perpendicular to the shank).
"""
from __future__ import annotations

from dataclasses import dataclass

import casadi as ca

# Layout of the leg parameter vector used by every casadi function of the model.
LEG_PARAM_NAMES = (
    "hip_x", "hip_y", "pelvis_tilt", "crank_length", "thigh_length", "shank_length",
    "cleat_x", "cleat_y",          # ankle -> pedal spindle, sole frame (m), cleat offset included
    "foot_com_x", "foot_com_y",    # ankle -> foot COM, sole frame (m)
    "thigh_mass", "thigh_com", "thigh_inertia",
    "shank_mass", "shank_com", "shank_inertia",
    "foot_mass", "foot_inertia", "crank_inertia", "gravity",
    "geometry_scale",
)


@dataclass(frozen=True)
class P:
    """Named view on a leg parameter vector (casadi or numpy)."""

    v: object

    def __getattr__(self, name: str):
        return self.v[LEG_PARAM_NAMES.index(name)]


def _rot(angle):
    return ca.vertcat(ca.cos(angle), ca.sin(angle))


def pedal_position(theta, p):
    """Pedal spindle (m) for crank angle theta."""
    c = P(p).crank_length
    return ca.vertcat(c * ca.sin(theta), c * ca.cos(theta))


def sole_axes(phi):
    """Unit vectors along the sole (toward the toes) and normal to it (up), for sole angle phi."""
    u = ca.vertcat(ca.cos(phi), -ca.sin(phi))
    n = ca.vertcat(ca.sin(phi), ca.cos(phi))
    return u, n


def _two_link(base, tip, l1, l2):
    """Angle of link 1 and the interior-angle complement (flexion) for a two-link chain from base to tip,
    the joint in front of (counter-clockwise from) the base-tip line."""
    d = tip - base
    dist2 = ca.sumsqr(d)
    dist = ca.sqrt(dist2)
    alpha = ca.acos((l1 * l1 + dist2 - l2 * l2) / (2 * l1 * dist))
    flex = ca.pi - ca.acos((l1 * l1 + l2 * l2 - dist2) / (2 * l1 * l2))
    return ca.atan2(d[1], d[0]) + alpha, flex


def leg_pose(theta, phi, p):
    """All positions (m) and angles (rad) of the leg for crank angle theta and sole angle phi.

    Returns a dict: hip, knee, ankle, pedal (2-vectors); thigh_angle, shank_angle (direction of hip->knee and
    knee->ankle, from +x, counter-clockwise); q (3-vector hip flexion, knee flexion, ankle dorsiflexion).
    """
    pp = P(p)
    hip = ca.vertcat(pp.hip_x, pp.hip_y)
    pedal = pedal_position(theta, p)
    u, n = sole_axes(phi)
    ankle = pedal - pp.cleat_x * u - pp.cleat_y * n
    thigh_angle, knee_flex = _two_link(hip, ankle, pp.thigh_length, pp.shank_length)
    knee = hip + pp.thigh_length * _rot(thigh_angle)
    shank_angle = thigh_angle - knee_flex
    hip_flex = thigh_angle + ca.pi / 2 + pp.pelvis_tilt
    ankle_df = -phi - shank_angle - ca.pi / 2
    return {
        "hip": hip, "knee": knee, "ankle": ankle, "pedal": pedal,
        "thigh_angle": thigh_angle, "shank_angle": shank_angle,
        "q": ca.vertcat(hip_flex, knee_flex, ankle_df),
    }


def sole_angle_fixed_ankle(theta, ankle_df, p):
    """Sole angle (rad) that keeps the ankle at dorsiflexion angle ankle_df (rad) at crank angle theta.

    The shank and foot form one rigid link from the knee to the pedal; two-link IK from hip to pedal.
    """
    pp = P(p)
    sb, cb = ca.sin(ankle_df), ca.cos(ankle_df)
    # knee -> pedal in the shank frame (x along knee->ankle, y rotated +90 deg)
    vx = pp.shank_length - pp.cleat_x * sb - pp.cleat_y * cb
    vy = pp.cleat_x * cb - pp.cleat_y * sb
    link = ca.sqrt(vx * vx + vy * vy)
    gamma = ca.atan2(vy, vx)
    hip = ca.vertcat(pp.hip_x, pp.hip_y)
    thigh_angle, flex = _two_link(hip, pedal_position(theta, p), pp.thigh_length, link)
    shank_angle = thigh_angle - flex - gamma
    return -ankle_df - shank_angle - ca.pi / 2


def forward_pedal_from_joint_angles(q, p):
    """Cleat point reached by walking the chain from the hip with joint angles q (independent of the IK;
    used to check loop closure)."""
    pp = P(p)
    thigh_angle = q[0] - ca.pi / 2 - pp.pelvis_tilt
    shank_angle = thigh_angle - q[1]
    phi = -q[2] - shank_angle - ca.pi / 2
    u, n = sole_axes(phi)
    knee = ca.vertcat(pp.hip_x, pp.hip_y) + pp.thigh_length * _rot(thigh_angle)
    ankle = knee + pp.shank_length * _rot(shank_angle)
    return ankle + pp.cleat_x * u + pp.cleat_y * n


def segment_com_and_angles(theta, phi, p):
    """COM positions (2x3: thigh, shank, foot) and absolute angles (3) of the moving leg segments."""
    pp = P(p)
    pose = leg_pose(theta, phi, p)
    u, n = sole_axes(phi)
    thigh = pose["hip"] + pp.thigh_com * _rot(pose["thigh_angle"])
    shank = pose["knee"] + pp.shank_com * _rot(pose["shank_angle"])
    foot = pose["ankle"] + pp.foot_com_x * u + pp.foot_com_y * n
    return ca.horzcat(thigh, shank, foot), ca.vertcat(pose["thigh_angle"], pose["shank_angle"], -phi)
