"""Search features beyond islands and MAP-Elites, each switched in the ``search`` config.

- ``novelty``: reject near-copies before evaluation (MinHash shingles or embeddings, judge).
- ``bandit``: model selection strategies for an ensemble (fixed weights, cost-aware UCB).
- ``scratchpad``: periodic notes and recommendations for the prompts.
- ``exploration``: explore/exploit templates and temperatures from the run's progress.
- ``hooks``: ``SearchHooks``, the few calls the controller makes into all of the above.

Per-instance Pareto parent selection lives next to the other sampling indexes, in
``evolve.database.pareto``.
"""
