"""The packaged rider-profile file read as is (no validation): its names feed the schema's allowed values."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

PROFILES_PACKAGE = "toolkit.study.data"
PROFILES_FILE = "riders.toml"


@lru_cache(maxsize=1)
def _profiles_raw() -> tuple[dict[str, Any] | None, str]:
    """(parsed riders.toml or None, error text)."""
    try:
        text = resources.files(PROFILES_PACKAGE).joinpath(PROFILES_FILE).read_text(encoding="utf-8")
        return tomllib.loads(text), ""
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        return None, str(e)


def profile_names() -> tuple[str, ...]:
    raw, _ = _profiles_raw()
    return tuple(k for k, v in (raw or {}).items() if isinstance(v, dict))


def _profiles_file_label() -> str:
    try:
        return str(resources.files(PROFILES_PACKAGE).joinpath(PROFILES_FILE))
    except Exception:  # pragma: no cover - packaging problem
        return f"{PROFILES_PACKAGE}/{PROFILES_FILE}"
