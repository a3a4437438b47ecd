"""Exit codes of the command line (README: 0 success, 1 a solve failed, 2 bad input, 3 write error, 130 interrupted)."""

EXIT_OK, EXIT_SOLVE_FAILED, EXIT_BAD_INPUT, EXIT_IO_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
