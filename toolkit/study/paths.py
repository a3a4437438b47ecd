"""Where the shipped experiment files and study folders are: next to the package in a checkout or an editable
install, else where a regular install put them (<prefix>/share/pedaling-toolkit/), else under the working
directory. No imports of the rest of the package (config checks and the study registry both use it)."""
from __future__ import annotations

import sysconfig
from pathlib import Path

__all__ = ["experiments_dir", "studies_dir"]


def _shipped(folder: str) -> Path:
    here = Path(__file__).resolve().parents[2] / folder
    if here.is_dir():
        return here
    installed = Path(sysconfig.get_path("data")) / "share" / "pedaling-toolkit" / folder
    return installed if installed.is_dir() else Path.cwd() / folder


def experiments_dir() -> Path:
    """The repository's experiments/ (checkouts, editable installs), else the installed copy, else ./experiments."""
    return _shipped("experiments")


def studies_dir() -> Path:
    """The repository's studies/ (checkouts, editable installs), else the installed copy, else ./studies."""
    return _shipped("studies")
