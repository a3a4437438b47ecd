"""Shared fixtures: one leg model and solver per test session (casadi functions are built once)."""
from __future__ import annotations

import os

import pytest

# Tests use CasADi's SX functions: no background C compiles competing for the cores during a test run (the
# compiled path has its own test, in a temporary cache directory).
os.environ["PEDALING_TOOLKIT_COMPILE"] = "off"

from toolkit.model.anthropometry import Rider
from toolkit.model.bikefit import BikeFit
from toolkit.model.leg import LegModel, make_setup
from toolkit.ocp.solve import PedalingSolver


@pytest.fixture(scope="session")
def model() -> LegModel:
    return LegModel()


@pytest.fixture(scope="session")
def setup(model):
    return make_setup(model, Rider(), BikeFit())


@pytest.fixture(scope="session")
def solver(model) -> PedalingSolver:
    return PedalingSolver(model)
