"""Running instances in memory: the compiled Engine, Instance and its Steps, Session (handoffs),
the World with its write journal, and world files.

One job per module: `steps` (frozen outcomes: Step, Refusal, HistoryEntry, EventOption),
`compiled` (a workflow compiled once: routes, payload checks, choices), `guards` and `actions`
(checking guards, applying journaled writes), `context` (what one event carries), `instance`
(one run: state, data, history, sending events), `engine` (Engine: compile and create),
`state_change` (the only module that touches `transitions`).

Depends only on `linkflow.language`.
"""
