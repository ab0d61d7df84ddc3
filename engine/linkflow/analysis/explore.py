"""Exhaustive exploration: every path from the initial state, with guards as free booleans.

How guard outcomes are modelled
-------------------------------
A guard's real value depends on the data, the world and the event's payload, which a static
analysis does not have; so each named guard is a free boolean, constrained only by what the
workflow says about it: `!g` is the negation of `g`, and at most one guard of an `exclusive`
group holds at a time. Guards re-evaluate at every step, so we must decide when two checks of
the same guard on one path must agree. The choice made here, a per-path assumption with
invalidation:

- A guard that reads only `data` and bindings keeps, along one path, the outcome it was first
  assumed to have (the world does not change behind the actor's back during one run), until a
  transition on the path writes something it reads: a write to `data.f` forgets every guard
  that reads `data.f`, itself or through the key of a binding it uses (a guard that uses `data`
  other than as `data.<field>` reads all of it), and a write to a world collection forgets the
  guards that use a binding on that collection. After that the guard is free again (e.g. "the
  selection is not empty" after the selection changed).
- A guard that reads `payload` is fresh at every step: a new event brings a new payload (a
  wrong password, then the right one after a retry). Within one step it has one value.

So "the same guard assumed both true and false on every path reaching a state" is a real
contradiction: no run can get there. A refused event changes nothing, so a path ends at a
refusal (the table row is the refusal); a path also ends at a final state, or where a bound
cuts it: `max_depth` events, each state visited at most `max_loops + 1` times (loop
unrolling), at most `max_paths` table rows and `max_nodes` search steps. Every bound that is
hit is reported, with the option that raises it.

Reachability under consistent assumptions (for the contradiction and never-accepted reports)
is a separate breadth-first search over (state, assumptions) with subsumption (a node with
fewer assumptions covers one with more), also bounded by `max_nodes`.

Each job is its own module: the guard logic (explore_logic), the decision table
(explore_table), consistent reachability with what it rules out (explore_reach), loops
(explore_loops), the records they fill (explore_results) and the reports (explore_report).
This module runs them in order.
"""

from __future__ import annotations

from linkflow.analysis.explore_logic import GuardLogic
from linkflow.analysis.explore_loops import find_loops
from linkflow.analysis.explore_reach import (
    consistent_reachability,
    find_contradictions,
    find_dead_events,
)
from linkflow.analysis.explore_results import Exploration
from linkflow.analysis.explore_table import DecisionTable
from linkflow.language.model import Workflow

DEFAULT_MAX_DEPTH = 40
DEFAULT_MAX_LOOPS = 1
DEFAULT_MAX_PATHS = 2000
DEFAULT_MAX_NODES = 50_000


def explore(
    workflow: Workflow,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_loops: int = DEFAULT_MAX_LOOPS,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Exploration:
    """Explore every path of `workflow` within the bounds; see the module docstring."""
    result = Exploration(workflow)
    logic = GuardLogic(workflow)
    paths = DecisionTable(logic, result, max_depth, max_loops, max_paths, max_nodes)
    paths.run()
    paths.finish()
    minimal = consistent_reachability(logic, result, max_nodes)
    if result.complete:
        result.contradictions = find_contradictions(workflow, set(minimal))
        result.dead_events = find_dead_events(logic, result, minimal)
    loops = find_loops(workflow)
    result.loops = loops
    return result
