"""Command line: python -m toolkit {model,solve,validate,run,reproduce,check-model,show,plot,export}.

Exit codes: 0 success; 1 a solve failed (reported, nothing stored as a result); 2 bad input, one line per problem
`FILE: KEY: what is wrong (allowed: ...)`; 3 results could not be written (disk full, I/O error; what was stored
before is intact); 130 interrupted (the message repeats the command with --resume).
"""
from __future__ import annotations

import json
import os
import sys

from .codes import EXIT_BAD_INPUT, EXIT_OK, EXIT_SOLVE_FAILED  # noqa: F401 (public)
from .experiments import _reproduce, _run, _validate
from .parser import BadInput, _parser
from .results import _export, _plot, _show
from .solve import _bad_input_json, _check_model, _model, _solve, read_sole_profile  # noqa: F401 (public)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except BadInput as e:
        if argv and argv[0] == "solve" and "--json" in argv:
            print(json.dumps(_bad_input_json(str(e))))
        else:
            print(f"-: {e} (see: python -m toolkit {argv[0] if argv else ''} --help)".replace("  ", " "),
                  file=sys.stderr)
        return EXIT_BAD_INPUT
    handler = {"model": _model, "solve": _solve, "validate": _validate, "run": _run, "reproduce": _reproduce,
               "check-model": _check_model, "show": _show, "plot": _plot, "export": _export}[args.command]
    try:
        code = handler(args)
        sys.stdout.flush()  # a pipe closed early shows up here, not at exit
        return code
    except BrokenPipeError:  # the reader went away (solve --json | head -c 100): not an error of ours
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
