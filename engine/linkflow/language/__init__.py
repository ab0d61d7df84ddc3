"""Reading and checking definitions: YAML with positions, schemas, the frozen model, expressions,
and the checks `linkflow validate` runs (graph, invariants, scenario names).

The lowest layer above `linkflow.errors` and `linkflow.source`: it imports nothing else of
linkflow.
"""
