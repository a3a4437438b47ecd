"""Ankle conditions as classes (toolkit/ocp/conditions.py): every condition has one, none can be added without
one, the other modules ask the condition instead of comparing names, and the bounds come from one table."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import toolkit
from toolkit.ocp import conditions as C
from toolkit.ocp.problem import CONDITIONS, FREE_SOLE_CONDITIONS, ProblemSpec, SolverSpec
from toolkit.ocp.transcription import Transcription, transcription_key

PRESCRIBED = ((0.0, 5.0), (90.0, 10.0), (180.0, 0.0), (270.0, -5.0))


def _spec(name: str, **kw) -> ProblemSpec:
    if name == "prescribed":
        kw.setdefault("prescribed_sole_deg", PRESCRIBED)
    return ProblemSpec(condition=name, solver=SolverSpec(nodes=20), **kw)


def test_every_condition_has_a_class():
    assert CONDITIONS == ("free", "fixed", "heel_drop", "prescribed", "range_limited", "braced")
    assert tuple(C.registered()) == CONDITIONS
    for name in CONDITIONS:
        cond = C.condition_for(_spec(name))
        assert isinstance(cond, C.AnkleCondition) and cond.name == name and C.condition_for(name) is cond
        assert cond.mode in C.SOLE_MODES and cond.description
        assert (name in FREE_SOLE_CONDITIONS) == (cond.mode == "free") == (not _spec(name).driven)
        assert transcription_key(_spec(name))[0] == cond.mode


def test_a_condition_cannot_be_added_without_a_class():
    # CONDITIONS is the registry: a name with no class is not a condition, in the spec or anywhere else.
    with pytest.raises(ValueError, match="condition: 'toe_clip'"):
        ProblemSpec(condition="toe_clip")
    with pytest.raises(ValueError, match="allowed"):
        C.condition_for("toe_clip")
    # and a class must be complete and new to register
    with pytest.raises(TypeError, match="name and a description"):
        type("ToeClip", (C.AnkleCondition,), {"name": "toe_clip"})
    with pytest.raises(TypeError, match="mode"):
        type("ToeClip", (C.AnkleCondition,), {"name": "toe_clip", "description": "x", "mode": "clipped"})
    with pytest.raises(TypeError, match="already defined"):
        type("Free2", (C.AnkleCondition,), {"name": "free", "description": "again"})
    assert tuple(C.registered()) == CONDITIONS


def test_no_condition_name_comparisons_outside_the_conditions_module():
    """Modules of the solver ask condition_for(spec); only conditions.py knows the names."""
    root = Path(toolkit.__file__).parent
    # a condition name compared with a literal, or looked up in a literal tuple (membership in CONDITIONS is fine)
    pattern = re.compile(r"\.condition\s*(==|!=)\s*[\"']|\.condition\s+(not\s+)?in\s*[(\[{]")
    files = [*sorted((root / "ocp").glob("*.py")), root / "analysis" / "limits.py"]
    offenders = [f"{f.name}:{i}" for f in files if f.name != "conditions.py"
                 for i, line in enumerate(f.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


def test_condition_parameters_and_reference():
    braced = _spec("braced", brace_stiffness_Nm_per_rad=50.0, brace_neutral_deg=-10.0, brace_damping_Nms_per_rad=1.0)
    limited = _spec("range_limited", ankle_range_deg=(-20.0, 10.0))
    assert C.condition_for(braced).device_parameters(braced) == [50.0, math.radians(-10.0), 1.0, 0.0, 0.0, 0.0]
    assert np.allclose(C.condition_for(limited).device_parameters(limited),
                       [0, 0, 0, 1e5, math.radians(-20.0), math.radians(10.0)])
    for name in ("free", "fixed", "heel_drop", "prescribed"):
        assert C.condition_for(name).device_parameters(_spec(name)) == [0.0] * 6
    # the prescribed profile is the only one with Fourier coefficients
    assert np.ndim(C.condition_for("prescribed").sole_profile_coefficients(_spec("prescribed"))) == 1
    assert C.condition_for("fixed").sole_profile_coefficients(_spec("fixed")) == 0.0
    # continuation only for stiff devices
    assert C.condition_for(limited).continuation_key(limited) == "ankle_stop_stiffness_Nm_per_rad"
    assert C.condition_for(braced).continuation_key(braced) is None
    stiff = _spec("braced", brace_stiffness_Nm_per_rad=1e4)
    assert C.condition_for(stiff).continuation_key(stiff) == "brace_stiffness_Nm_per_rad"
    # relative definitions need the free reference
    assert C.condition_for("heel_drop").needs_reference(_spec("heel_drop"))
    assert not C.condition_for("heel_drop").needs_reference(_spec("heel_drop", heel_drop_mode="absolute"))
    width = _spec("range_limited", ankle_range_width_deg=10.0)
    assert C.condition_for(width).needs_reference(width) and not C.condition_for(limited).needs_reference(limited)


def test_bounds_come_from_the_table(model):
    spec = _spec("heel_drop", heel_drop_mode="absolute", tendon="compliant", load="inertial")
    tr = Transcription(model, *transcription_key(spec))
    lo, hi = tr.variable_bounds(spec)
    X_lo, U_lo = tr.split(lo)
    X_hi, U_hi = tr.split(hi)
    B = C.BOUNDS
    inside = C.condition_for(spec).sole_upper_bound(tr.theta, spec) < np.inf
    assert np.allclose(X_lo[0], B.sole_angle_rad[0]) and np.allclose(X_hi[0, ~inside], B.sole_angle_rad[1])
    assert np.allclose(X_hi[0, inside], -math.radians(spec.heel_drop_deg))  # the heel-drop bound
    assert (X_lo[1, 0], X_hi[1, 0], U_lo[0, 0], U_hi[0, 0]) == (*B.sole_rate, *B.sole_accel)
    assert (X_lo[11, 0], X_hi[11, 0]) == B.tendon_force and (U_lo[10, 0], U_hi[10, 0]) == B.tendon_force_rate
    assert (X_lo[-1, 0], X_hi[-1, 0]) == B.crank_speed_sq and (U_lo[-1, 0], U_hi[-1, 0]) == B.crank_accel
    assert X_hi[2, 0] == B.activation[1] and X_lo[2, 0] == spec.activation_floor
