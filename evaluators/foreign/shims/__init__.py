"""Stand-ins shipped into the sandbox for evaluators that import ``openevolve`` or
``shinka`` (see README.md); a package here only so that installs include them."""
