"""Musculoskeletal optimal control of seated cycling (see README.md and docs/).

The public API (imported on first use, so `import toolkit` stays cheap and has no side effects):

    Problem, solve            toolkit.api: one problem object; solve one or a list -> Solution(s)
    Solution                  the solver's Solution with .summary() and .on_crank_angle() (sealed on failure)
    load_experiment, run      experiments from TOML files or dicts; solve every point into HDF5 + figures
    plot                      figure functions that take solutions (toolkit.plots.api)
    load_study, reproduce     a study definition (studies/<name>/ or any folder); solve and render it
    study_results             what is stored for a study: records, failures, comparison rows
"""

__version__ = "0.1.0"

_EXPORTS = {"Problem": ("toolkit.api", "Problem"), "solve": ("toolkit.api", "solve"),
            "load_experiment": ("toolkit.api", "load_experiment"), "run": ("toolkit.api", "run"),
            "Solution": ("toolkit.api", "Solution"), "plot": ("toolkit.plots.api", None),
            "load_study": ("toolkit.api", "load_study"), "reproduce": ("toolkit.api", "reproduce"),
            "study_results": ("toolkit.api", "study_results")}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    import importlib

    module, attr = _EXPORTS[name]
    mod = importlib.import_module(module)
    return mod if attr is None else getattr(mod, attr)
