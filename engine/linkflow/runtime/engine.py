"""`Engine`: a workflow compiled once, and the instances created from it.

The compiling is `CompiledWorkflow`'s (`linkflow.runtime.compiled`); an `Instance` holds the
compiled workflow it runs on. The engine adds only `create`, which is why it lives apart:
this module imports both, and neither imports the other.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from linkflow.errors import UsageError
from linkflow.runtime.compiled import CompiledWorkflow
from linkflow.runtime.instance import Clock, Instance
from linkflow.runtime.json_values import json_problem
from linkflow.runtime.world import World, copy_json


class Engine(CompiledWorkflow):
    """A compiled workflow that creates instances: one Engine per workflow, shared by all."""

    def create(
        self,
        data: Mapping[str, Any] | None = None,
        world: World | None = None,
        clock: Clock = time.time,
    ) -> Instance:
        """A new instance in the initial state; `data` may override the declared fields only."""
        values = copy_json(dict(self.workflow.data))
        for key, value in (data or {}).items():
            if key not in values:
                known = ", ".join(sorted(values)) or "none"
                raise UsageError(
                    f"workflow '{self.workflow.name}' has no data field '{key}' (fields: {known})"
                )
            problem = json_problem(value)
            if problem:
                raise UsageError(f"data field '{key}' is not plain JSON data: {problem}")
            why = self.field_type(key).problem(value)
            if why:
                raise UsageError(f"data field '{key}' of workflow '{self.workflow.name}' {why}")
            values[key] = copy_json(value)
        return Instance(self, values, world if world is not None else World(), clock)
