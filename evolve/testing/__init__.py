"""Conformance kits: the rules each kind of plug-in keeps, as tests it can run.

- ``evaluator_kit``: evaluators (``check_evaluator``);
- ``backend_kit``: LLM backends;
- ``executor_kit``: executors (``ExecutorConformance``; local and Ray run it);
- ``store_kit``: database backends (``StoreConformance``; SQLite and PostgreSQL run it;
  ``store_files_kit`` holds its folder-program rules, ``store_writers`` what both write);
- ``selector_kit``: parent selectors (``ParentSelectorConformance``);
- ``importer_kit``: importers of other frameworks' problems (``check_importer``).
"""
