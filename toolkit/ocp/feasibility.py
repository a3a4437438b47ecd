"""Geometric feasibility of a request, checked before IPOPT is called (fast, explains itself)."""
from __future__ import annotations

from ..model.leg import Setup
from .conditions import condition_for
from .problem import ProblemSpec
from .scan import (SCAN_STEP_DEG, Feasibility, _binding_limits, _in_range, _poses,  # noqa: F401 (re-exported)
                   largest_heel_drop_deg, min_sole_angle)
from .transcription import Transcription


def check(tr: Transcription, setup: Setup, spec: ProblemSpec) -> Feasibility:
    """Is the request geometrically possible for this rider and fit? Explain when it is not (the check is the
    spec's condition's: toolkit/ocp/conditions.py)."""
    return condition_for(spec).check(tr, setup, spec)
