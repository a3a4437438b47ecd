"""One module per study (named by `metrics` in its study.toml, default: the study's name): `evaluate(data)` turns
the stored solutions into the study's quantities, tables and notes; `figures(data, rows, dir)` draws them. The
study's constants come from its study.toml ([parameters], variant roles); nothing here solves."""
