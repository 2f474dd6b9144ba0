"""Stand-in for the parts of the ``shinka`` package an evaluator imports."""
