"""Figure functions for the Python API (`toolkit.plot`): data in, matplotlib Figure out.

Each takes one Solution, a list, or a {label: Solution} dict (the labels become the legend).
"""
from __future__ import annotations

from .figures import activation_figure as activations
from .figures import joint_power_figure as joint_power
from .figures import joint_shares_bar_figure as shares
from .figures import joint_shares_figure as shares_vs_work_rate
from .figures import muscle_power_figure as muscle_power
from .figures import pedal_force_figure as pedal_force
from .figures import stick_figure as stick

__all__ = ["activations", "joint_power", "muscle_power", "pedal_force", "shares", "shares_vs_work_rate", "stick"]
