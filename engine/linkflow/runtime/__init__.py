"""Running instances in memory: the compiled Engine, Instance and its Steps, Session (handoffs),
the World with its write journal, and world files.

Depends only on `linkflow.language`.
"""
