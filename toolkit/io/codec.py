"""JSON codecs of the result files' metadata (spec, solver statistics, setup, labels): exact round trips."""
from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
import warnings
from typing import Any, Mapping

import numpy as np

from ..ocp.problem import ProblemSpec
from ..ocp.solution import SolverStats


def _tag(obj: Any) -> Any:
    """JSON-ready copy that keeps tuples, non-finite floats and arrays distinguishable (exact round trip)."""
    if isinstance(obj, dict):
        return {str(k): _tag(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return {"__tuple__": [_tag(v) for v in obj]}
    if isinstance(obj, list):
        return [_tag(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": _tag(obj.tolist()), "dtype": str(obj.dtype)}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else {"__float__": repr(f)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _tag(dataclasses.asdict(obj))
    return obj


def _untag(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_untag(v) for v in obj]
    if isinstance(obj, dict):
        if set(obj) == {"__tuple__"}:
            return tuple(_untag(v) for v in obj["__tuple__"])
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        if set(obj) == {"__ndarray__", "dtype"}:
            return np.array(_untag(obj["__ndarray__"]), dtype=obj["dtype"])
        return {k: _untag(v) for k, v in obj.items()}
    return obj


def _plain(obj: Any) -> Any:
    """JSON-ready copy for readable attributes: tuples as lists, non-finite floats as 'NaN'/'Infinity'."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else ("NaN" if math.isnan(f) else ("Infinity" if f > 0 else "-Infinity"))
    return obj


def _dumps(obj: Any) -> str:
    return json.dumps(obj, allow_nan=False, sort_keys=False)


def from_plain(tp: Any, value: Any) -> Any:
    """Rebuild a value of type `tp` (dataclass, tuple[...], dict[...], float, int, str, bool, Optional) from
    plain JSON data, using the dataclass type hints. Unknown dataclass fields are dropped with a warning."""
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp) if f.init}
        unknown = set(value) - names
        if unknown:
            warnings.warn(f"{tp.__name__}: ignoring fields unknown to this toolkit version: {sorted(unknown)}",
                          stacklevel=2)
        return tp(**{k: from_plain(hints[k], v) for k, v in value.items() if k in names})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        for a in args:
            if a is type(None):
                continue
            try:
                return from_plain(a, value)
            except (TypeError, ValueError):
                continue
        return value
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v) for v in value)
        if args:
            return tuple(from_plain(a, v) for a, v in zip(args, value))
        return tuple(value)
    if origin is list:
        return [from_plain(args[0], v) for v in value] if args else list(value)
    if origin is dict:
        return {k: from_plain(args[1], v) for k, v in value.items()} if args else dict(value)
    if tp is float:
        return float(value)
    if tp is int:
        return int(value)
    if tp is bool:
        return bool(value)
    if tp is str:
        return str(value)
    return value


def spec_to_json(spec: ProblemSpec) -> str:
    return _dumps(_plain(spec))


def spec_from_json(text: str) -> ProblemSpec:
    return from_plain(ProblemSpec, json.loads(text))


def stats_to_json(stats: SolverStats) -> str:
    return _dumps(_plain(stats))


def stats_from_json(text: str) -> SolverStats:
    return from_plain(SolverStats, json.loads(text))


def setup_to_json(setup: Mapping[str, Any]) -> str:
    return _dumps(_tag(dict(setup)))


def setup_from_json(text: str) -> dict[str, Any]:
    return _untag(json.loads(text))
