"""Study definitions as data: one folder per study, `studies/<name>/study.toml` plus its experiment files.

A study.toml says what the study asks and how it is judged; the experiment files beside it say exactly what gets
solved (the cross product of each file, nothing filtered out). Code only computes: the study's metrics module
(`toolkit.study.metrics.<metrics>`) turns the stored solutions into the quantities named in [[published]], and
its page (`toolkit.study.pages.<metrics>`) adds the tables, notes and figures.

    [study]
    name = "trunk_angle"                 # = the folder name; results go to OUT/<name>/
    title = "Trunk angle (claim C)"
    claims = "C"
    question = "Does ...?"
    metrics = "trunk_angle"              # module toolkit.study.metrics.<metrics> (default: the name), or a .py
                                         # file in the study's folder ("metrics.py") with evaluate(data)
    solver = "heel_drop"                 # optional: an own solve loop, toolkit.study.solvers.<solver>.solve
    notes = ["..."]                      # fixed notes printed on the study page (optional)

    [[variants]]                         # one per experiment file, in order
    file = "study_trunk_angle.toml"      # next to study.toml
    label = "trunk +-10 deg"             # what it stands for in tables (hypotheses and SENSITIVITY say so)
    role = "main"                        # how the metrics module finds it (optional; default: the file stem)
    quick = ["intensity.values=[400]"]   # --set overrides of the quick (test) mode, besides solver.nodes

    [parameters]                         # the study's own constants (labels, named points), read by its metrics
    fit_labels = { ideal = "ideal (default trunk)" }

    [[published]]                        # the published values and the toolkit's agreement criteria
    claim = "C"
    quantity = "hip_share_open_minus_closed_pp"
    value = "changes"                    # a number, or a word for a qualitative claim
    unit = "pp"
    criterion = "abs_gt:2"               # syntax in toolkit.study.comparison
    source = "..."                       # the citation
    note = "..."                         # what the claim says and how the model value is computed

The page (`evaluate(data)`: the metrics' values plus tables and notes; `figures(data, rows, dir)`) is
`toolkit.study.pages.<metrics>` when there is one, else the metrics module's own.

Nothing is read at import: `studies()` loads the shipped folders on first use. `load_study(path)` loads any
folder (a researcher's own study); errors follow the config contract `FILE: KEY: what is wrong (allowed: ...)`.
"""
from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping, Sequence

from . import comparison as C
from .config import ConfigError
from .paths import studies_dir

__all__ = ["STUDY_FILE", "Variant", "StudyDef", "studies_dir", "load_study", "studies", "study", "study_names",
           "find_study_dir", "published_rows"]

STUDY_FILE = "study.toml"
_STUDY_KEYS = ("name", "title", "claims", "question", "metrics", "solver", "notes")
_VARIANT_KEYS = ("file", "label", "role", "quick")
_PUBLISHED_KEYS = ("claim", "quantity", "value", "unit", "criterion", "source", "note")


@dataclass(frozen=True)
class Variant:
    """One experiment file of a study. path: the file; label: what it stands for in tables; role: how the
    metrics module addresses it; quick: --set overrides of the quick (test) mode, besides solver.nodes."""

    file: str
    label: str
    role: str = ""
    quick: tuple[str, ...] = ()
    path: Path | None = None


@dataclass(frozen=True)
class StudyDef:
    """A loaded study: its text, variants, parameters and published rows, plus the metrics module's hooks.

    evaluate(data) -> Evaluation; figures(data, rows, dir) -> [paths] (optional); solve(points, solver,
    progress, experiment) -> (key -> Solution, info) (optional: an own solve loop, e.g. one free-ankle
    reference per fit reused by its heel drops)."""

    name: str
    title: str
    claims: str
    question: str
    variants: tuple[Variant, ...]
    directory: Path
    evaluate: Callable[..., Any]
    figures: Callable[..., list[Path]] | None = None
    solve: Callable[..., tuple[dict[str, Any], dict]] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    published: tuple[C.Published, ...] = ()
    notes: tuple[str, ...] = ()
    metrics: str = ""

    def variant(self, role: str) -> Variant:
        """The variant with this role (KeyError naming the roles there are)."""
        for v in self.variants:
            if v.role == role:
                return v
        raise KeyError(f"study {self.name}: no variant with role {role!r} (roles: "
                       f"{', '.join(v.role for v in self.variants)})")

    def experiment_name(self, role: str) -> str:
        """The experiment name of a role's file (its file stem; the experiment files name themselves the same)."""
        return Path(self.variant(role).file).stem

    def param(self, key: str) -> Any:
        """A [parameters] value (KeyError naming the study file and the keys there are)."""
        try:
            return self.parameters[key]
        except KeyError:
            raise KeyError(f"{self.directory / STUDY_FILE}: parameters.{key}: missing (have: "
                           f"{', '.join(self.parameters) or 'none'})") from None


def _text(raw: Mapping, key: str, where: str, label: str, problems: list[str], required: bool = True) -> str:
    v = raw.get(key)
    if v is None:
        if required:
            problems.append(f"{label}: {where}{key}: missing (allowed: a non-empty string)")
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        problems.append(f"{label}: {where}{key}: {v!r} (allowed: a non-empty string)")
        return ""
    return v.strip()


def _unknown(raw: Mapping, allowed: Sequence[str], where: str, label: str, problems: list[str]) -> None:
    from .config.errors import _suggest

    for k in raw:
        if k not in allowed:
            problems.append(f"{label}: {where}{k}: unknown key{_suggest(k, allowed)} (allowed: "
                            f"{', '.join(allowed)})")


def _variants(raw: Any, folder: Path, label: str, problems: list[str]) -> tuple[Variant, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{label}: variants: missing or empty (allowed: one [[variants]] table per experiment file)")
        return ()
    out = []
    for i, v in enumerate(raw):
        where = f"variants[{i}]."
        if not isinstance(v, dict):
            problems.append(f"{label}: variants[{i}]: not a table (allowed: [[variants]] with file and label)")
            continue
        _unknown(v, _VARIANT_KEYS, where, label, problems)
        f = _text(v, "file", where, label, problems)
        lab = _text(v, "label", where, label, problems)
        quick = v.get("quick", [])
        if not isinstance(quick, list) or not all(isinstance(q, str) for q in quick):
            problems.append(f"{label}: {where}quick: {quick!r} (allowed: a list of KEY=VALUE strings)")
            quick = []
        if f and not (folder / f).is_file():
            problems.append(f"{label}: {where}file: {f!r} not found next to {STUDY_FILE} (allowed: an experiment "
                            f"file in {folder})")
        role = _text(v, "role", where, label, problems, required=False) or Path(f).stem
        out.append(Variant(f, lab, role, tuple(quick), folder / f))
    roles = [v.role for v in out]
    for r in sorted({r for r in roles if roles.count(r) > 1}):
        problems.append(f"{label}: variants: role {r!r} used twice (allowed: one variant per role)")
    return tuple(out)


def _published(raw: Any, name: str, label: str, problems: list[str]) -> tuple[C.Published, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{label}: published: not a list of tables (allowed: [[published]] tables)")
        return ()
    rows = []
    for i, p in enumerate(raw):
        where = f"published[{i}]."
        if not isinstance(p, dict):
            problems.append(f"{label}: published[{i}]: not a table")
            continue
        _unknown(p, _PUBLISHED_KEYS, where, label, problems)
        texts = {k: _text(p, k, where, label, problems, required=k not in ("unit", "note"))
                 for k in _PUBLISHED_KEYS if k != "value"}
        value = p.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            problems.append(f"{label}: {where}value: {value!r} (allowed: a number or a word)")
            continue
        rows.append(C.Published(name, texts["claim"], texts["quantity"], C.published_value(value), texts["unit"],
                                texts["criterion"], texts["source"], texts["note"]))
    try:
        C.check_published(rows)
    except ValueError as e:
        problems.append(f"{label}: published: {e}")
    return tuple(rows)


def _module(kind: str, name: str, label: str, problems: list[str]) -> ModuleType | None:
    """toolkit.study.<kind>.<name> (kind: metrics or solvers), or None with a problem naming the allowed ones."""
    have = sorted(p.stem for p in (Path(__file__).parent / kind).glob("*.py") if p.stem not in ("__init__", "starts"))
    if name not in have:
        from .config.errors import _suggest

        key = "metrics" if kind == "metrics" else "solver"
        problems.append(f"{label}: study.{key}: no {kind} module {name!r}{_suggest(name, have)} (allowed: "
                        f"{', '.join(have)})")
        return None
    return importlib.import_module(f"{__package__}.{kind}.{name}")


def _local_module(folder: Path, file: str, label: str, problems: list[str]) -> ModuleType | None:
    """A metrics module kept in the study's own folder (`metrics = "metrics.py"`): a researcher's study needs no
    change to the package. Loaded from that file under a name of its own."""
    import importlib.util

    path = folder / file
    if not path.is_file():
        problems.append(f"{label}: study.metrics: {file!r} not found next to {STUDY_FILE} (allowed: a module name "
                        "of toolkit.study.metrics, or a .py file in the study folder)")
        return None
    spec = importlib.util.spec_from_file_location(f"toolkit_study_{folder.name}_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # the researcher's code: its error, named, as a problem of this file
        problems.append(f"{label}: study.metrics: {file} cannot be loaded ({type(e).__name__}: {e})")
        return None
    return mod


def _page(name: str) -> ModuleType | None:
    """toolkit.study.pages.<name> (the page: tables, notes, figures), if the study has one."""
    if not (Path(__file__).parent / "pages" / f"{name}.py").is_file():
        return None
    return importlib.import_module(f"{__package__}.pages.{name}")


def load_study(folder: str | Path) -> StudyDef:
    """Read and check one study folder. Raises ConfigError with one line per problem."""
    folder = Path(folder)
    path = folder / STUDY_FILE
    label = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{label}: -: file not found (allowed: a folder with a {STUDY_FILE})"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{label}: -: cannot read ({e})"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{label}: -: not valid TOML ({e})"]) from None
    problems: list[str] = []
    _unknown(raw, ("study", "variants", "parameters", "published"), "", label, problems)
    head = raw.get("study", {})
    if not isinstance(head, dict):
        head = {}
        problems.append(f"{label}: study: not a table (allowed: [study] with name, title, claims, question)")
    _unknown(head, _STUDY_KEYS, "study.", label, problems)
    name = _text(head, "name", "study.", label, problems)
    if name and name != folder.name:
        problems.append(f"{label}: study.name: {name!r} differs from its folder {folder.name!r} (allowed: "
                        f"{folder.name!r})")
    notes = head.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.append(f"{label}: study.notes: {notes!r} (allowed: a list of strings)")
        notes = []
    params = raw.get("parameters", {})
    if not isinstance(params, dict):
        problems.append(f"{label}: parameters: not a table (allowed: [parameters])")
        params = {}
    metrics = _text(head, "metrics", "study.", label, problems, required=False) or name
    local = metrics.endswith(".py")
    mod = (_local_module(folder, metrics, label, problems) if local else
           _module("metrics", metrics, label, problems) if metrics else None)
    page = _page(metrics) if mod is not None and not local else None
    if mod is not None and not hasattr(page or mod, "evaluate"):
        problems.append(f"{label}: study.metrics: {metrics!r} has no evaluate(data) (in toolkit.study.pages.{metrics} "
                        f"or toolkit.study.metrics.{metrics})")
    solver = _text(head, "solver", "study.", label, problems, required=False)
    solve_mod = _module("solvers", solver, label, problems) if solver else None
    variants = _variants(raw.get("variants"), folder, label, problems)
    published = _published(raw.get("published"), name, label, problems)
    title, claims, question = (_text(head, k, "study.", label, problems) for k in ("title", "claims", "question"))
    if problems:
        raise ConfigError(problems)
    return StudyDef(name, title, claims, question, variants, folder,
                    evaluate=getattr(page or mod, "evaluate"), figures=getattr(page or mod, "figures", None),
                    solve=getattr(solve_mod, "solve", None), parameters=params, published=published,
                    notes=tuple(notes), metrics=metrics)


@lru_cache(maxsize=None)
def _shipped(root: str) -> dict[str, StudyDef]:
    folders = sorted(p.parent for p in Path(root).glob(f"*/{STUDY_FILE}"))
    out = {s.name: s for s in (load_study(f) for f in folders)}
    return {n: out[n] for n in sorted(out, key=lambda n: _order(Path(root), n))}


def _order(root: Path, name: str) -> tuple[int, str]:
    """Shipped studies in the order of studies/ORDER (one name per line), the rest alphabetically after."""
    f = root / "ORDER"
    names = [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines()] if f.exists() else []
    return (names.index(name) if name in names else len(names), name)


def studies() -> dict[str, StudyDef]:
    """name -> StudyDef of every shipped study (studies/*/study.toml), loaded once."""
    return _shipped(str(studies_dir()))


def published_rows() -> list[C.Published]:
    """The published rows of every shipped study (their [[published]] tables)."""
    return [p for s in studies().values() for p in s.published]


def study_names() -> tuple[str, ...]:
    return tuple(studies())


def find_study_dir(name_or_path: str | Path) -> Path | None:
    """A shipped study's folder by name, or a folder path holding a study.toml; None if neither."""
    p = Path(name_or_path)
    if (p / STUDY_FILE).is_file():
        return p
    q = studies_dir() / str(name_or_path)
    return q if (q / STUDY_FILE).is_file() else None


def study(name_or_path: str | Path) -> StudyDef:
    """A shipped study by name, or any study folder by path (KeyError naming the shipped studies)."""
    s = studies().get(str(name_or_path))
    if s is not None:
        return s
    d = find_study_dir(name_or_path)
    if d is None:
        raise KeyError(f"unknown study {str(name_or_path)!r} (allowed: {', '.join(studies())}, or a folder with a "
                       f"{STUDY_FILE})")
    return load_study(d)
