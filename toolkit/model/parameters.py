"""Read the packaged parameter files (toolkit/model/data). Pure readers, no state."""
from __future__ import annotations

import csv
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

DATA_PACKAGE = "toolkit.model.data"


def data_text(name: str) -> str:
    """Text of a packaged data file."""
    return resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def read_csv_rows(name: str) -> list[dict[str, str]]:
    """Rows of a packaged CSV file, skipping '#' comment lines."""
    lines = [ln for ln in data_text(name).splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines))


@lru_cache(maxsize=None)
def model_parameters() -> dict[str, Any]:
    """The contents of model_parameters.toml (treat as read-only)."""
    return tomllib.loads(data_text("model_parameters.toml"))
