"""`validate`, `run` and `reproduce`: experiment files and the study reproductions."""
from __future__ import annotations


def _validate(args) -> int:
    from ..study.config import validate_main

    return validate_main(args.config, args.set)


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
