"""What the page needs to ask for start data: a form built from the workflow's data fields.

Each field of `data:` has a JSON Schema (linkflow.language.data_types); a field that a binding
looks a world record up by (`key: data.field`) is offered as a choice among that collection's
records, by their names, the value sent being the record's key. The other fields (the ones the
workflow fills in itself, as a rule) follow, with their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from linkflow.language.data_types import default_of, field_type
from linkflow.language.model import Workflow
from linkflow.runtime.world import World, copy_json


def record_name(record: Any, key: str) -> str:
    """The words a record goes by: its `name` (or `title`) field, else its key."""
    if isinstance(record, Mapping):
        for field_name in ("name", "title"):
            if isinstance(record.get(field_name), str) and record[field_name]:
                return str(record[field_name])
    return key


def records_of(world: World, collection: str) -> list[dict[str, Any]]:
    """The records of a collection as choices: the key to send, the name to show."""
    records = world.collections.get(collection) or {}
    return [
        {"value": key, "label": record_name(record, key)} for key, record in sorted(records.items())
    ]


def bound_fields(workflow: Workflow, root: str) -> dict[str, str]:
    """The fields of `root` ("data" or "payload") a binding looks a record up by, each with
    its collection, in the order the bindings are declared."""
    out: dict[str, str] = {}
    for binding in workflow.bindings.values():
        source = binding.key.source.strip()
        name = source.removeprefix(f"{root}.")
        if name != source and name.isidentifier():
            out.setdefault(name, binding.collection)
    return out


def binding_of_field(workflow: Workflow, root: str, field: str) -> str:
    """The name of the first binding that looks a record up by `root.field` ("" for none)."""
    for binding in workflow.bindings.values():
        if binding.key.source.strip() == f"{root}.{field}":
            return binding.name
    return ""


def asks_for_absence(workflow: Workflow, event: str, binding: str) -> bool:
    """Whether every guard of `event` that reads `binding` only asks that no record be found
    (`taken == null` as written, or `taken != null` negated with `!`).

    Then the records that exist are exactly the values that would be refused (a username
    already taken), and offering them as picks would lead the person to a refusal."""
    name = re.escape(binding)
    mention = re.compile(rf"(?<![\w.]){name}(?!\w)")
    absent = re.compile(rf"(?<![\w.]){name}\s*==\s*null(?!\w)")
    present = re.compile(rf"(?<![\w.]){name}\s*!=\s*null(?!\w)")
    reads = False
    for transition in workflow.transitions:
        if transition.event != event:
            continue
        for use in transition.guards:
            source = use.guard.when.source
            if not mention.search(source):
                continue
            reads = True
            wanted, other = (present, absent) if use.negated else (absent, present)
            rest = wanted.sub("", source)
            if other.search(rest) or mention.search(rest):
                return False
    return reads


def start_form(workflows: Mapping[str, Workflow], start: str, world: World) -> dict[str, Any]:
    """The start workflow's data fields as a JSON Schema, their defaults, and for each field a
    binding reads the world by, the records it can name (`bound` lists those fields first)."""
    workflow = workflows[start]
    bound = bound_fields(workflow, "data")
    properties = {name: field_type(value) for name, value in workflow.data.items()}
    return {
        "workflow": start,
        "schema": {"type": "object", "properties": properties},
        "defaults": {name: copy_json(default_of(value)) for name, value in workflow.data.items()},
        "bound": [name for name in bound if name in properties],
        "suggestions": {
            name: records_of(world, collection)
            for name, collection in bound.items()
            if name in properties
        },
    }
