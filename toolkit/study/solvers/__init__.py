"""Own solve loops of studies that need more than one solve per point (named by `solver` in a study.toml):
`heel_drop` (one free-ankle reference per fit, reused by its heel drops) and `ankle_constraint` (continuation
along the stiffness of an ankle device). `starts` holds the several-starts strategy they share."""
