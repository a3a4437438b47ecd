"""One module per study with its page: `evaluate(data)` (the metrics module's values plus the point table, notes
and extra markdown) and `figures(data, rows, dir)`. Built from the stored files only; nothing here solves."""
