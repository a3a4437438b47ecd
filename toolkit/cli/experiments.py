"""`validate`, `run` and `reproduce`: experiment files and the study reproductions."""
from __future__ import annotations

import sys


def _validate(args) -> int:
    """An experiment file, or a study (a folder with a study.toml, or the study.toml itself): the definition and
    every experiment file of it."""
    from pathlib import Path

    from ..study.config import ConfigError, validate_main
    from ..study.registry import STUDY_FILE, load_study

    p = Path(args.config)
    folder = p if (p / STUDY_FILE).is_file() else p.parent if p.name == STUDY_FILE else None
    if folder is None:
        return validate_main(args.config, args.set)
    try:
        st = load_study(folder)
    except ConfigError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        return 2
    codes = [validate_main(str(v.path), args.set) for v in st.variants]
    if max(codes) == 0:
        print(f"OK {folder / STUDY_FILE}: study {st.name!r}, {len(st.variants)} experiment file(s), "
              f"{len(st.published)} published value(s)")
    return max(codes)


def _run(args) -> int:
    from ..study.runner import run_main

    return run_main(args.config, out=args.out, jobs=args.jobs, executor=args.executor, scheduler=args.scheduler,
                    resume=args.resume, overrides=args.set)


def _reproduce(args) -> int:
    from pathlib import Path

    from ..study.findings import update_readme
    from ..study.reproduce import reproduce_main

    code = reproduce_main(args.studies, all_studies=args.all, out=args.out, jobs=args.jobs)
    if code == 0 and args.all:  # the top-level README's findings block, when these are the project's results
        update_readme(Path(args.out).resolve().parent / "README.md", args.out)
    return code
