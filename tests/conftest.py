"""Shared fixtures: one leg model and solver per test session (casadi functions are built once)."""
from __future__ import annotations

import pytest

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
