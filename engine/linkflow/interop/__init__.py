"""Workflows that travel: a workflow written out as an XState v5 machine config or an SCXML
document, and an SCXML document read back into a workflow.

Every format goes through one description of the machine (`chart`): a tree of state nodes with
their transitions. Today's workflows are flat (the root's children are atomic or final states);
a compound or parallel state is a node with children, which each writer already recurses into.
"""
