"""The search policy: where parents come from and what the loop does around each child.

- ``population``: ``Population``, the in-memory index (islands, MAP-Elites cells, elite
  archive) rebuilt from the store on resume; ``islands``, ``features``, ``migration``.
- ``selectors``: parent selection plug-ins (``ParentSelector``, ``PARENT_SELECTORS``:
  explore, exploit, elite, pareto), drawn by weight per iteration.
- ``scope``, ``shared``: which islands a controller works on (all, or its share of a
  run several controllers work on).
- ``hooks``: search hook plug-ins (``SearchHook``, ``SEARCH_HOOKS``) and the built-in
  ones: ``retry`` (retry a failed edit), ``exploration`` (explore/exploit prompts),
  ``novelty`` (reject near-copies), ``bandit`` (reward a learning model selector),
  ``scratchpad`` (notes and recommendations for the prompts).
"""
