"""Provenance of results: package version, git commit of the source tree, UTC timestamps."""
from __future__ import annotations

import datetime as _dt
import functools
import subprocess
from pathlib import Path

DIST_NAME = "pedaling-toolkit"


def package_version() -> str:
    """toolkit.__version__ if defined, else the installed distribution's version, else '0+unknown'."""
    try:
        from toolkit import __version__  # type: ignore[attr-defined]

        return str(__version__)
    except ImportError:
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DIST_NAME)
        except PackageNotFoundError:
            return "0+unknown"
    except Exception:  # pragma: no cover - importlib.metadata broken
        return "0+unknown"


def _source_dir() -> Path:
    import toolkit

    return Path(toolkit.__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit (HEAD) of the git work tree the package is imported from, or None (not a git checkout, git
    missing, or any error). Read-only: runs `git rev-parse HEAD` once per process."""
    src = _source_dir()
    if not any((d / ".git").exists() for d in (src, *src.parents)):
        return None
    try:
        r = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    return out if r.returncode == 0 and out else None


def utc_now() -> str:
    """Current time, ISO 8601 in UTC with seconds (e.g. 2025-01-31T12:00:00+00:00)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
