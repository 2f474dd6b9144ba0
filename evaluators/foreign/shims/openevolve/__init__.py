"""Stand-in for the parts of the ``openevolve`` package an evaluator imports."""
