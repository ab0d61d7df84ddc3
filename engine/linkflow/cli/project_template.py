"""The files `linkflow init` writes: a small, complete project that validates and passes its tests.

Everything a new project starts with is in this one module, so that a change of the languages
(a world record shape declared by the project, say) is adapted here and only here. The test
`tests/test_init.py` proves the result validates, passes `linkflow test` and pytest.
"""

from __future__ import annotations

#: Where `init` copies the JSON schemas, so the `yaml-language-server` lines resolve offline.
SCHEMA_DIR = ".linkflow/schemas"

#: The schemas, by the name `linkflow schema` knows them.
SCHEMAS = ("workflow", "world", "world_schema", "scenario")


def schema_line(kind: str, depth: int) -> str:
    """The first line of a YAML file `depth` folders below the project root."""
    up = "../" * depth
    return f"# yaml-language-server: $schema={up}{SCHEMA_DIR}/{kind}.schema.json\n"


WORKFLOW = """\
# A leave request: an employee asks for days off, their manager approves or declines, and
# an unanswered request expires after a week. Change it, or copy it, to start your own.
workflow: leave_request
title: Leave request
description: An employee asks for days off; their manager approves or declines.
rules: [L1, L2, L3]
initial: draft

data:
  employee: ""
  days: 0

bindings:
  person:
    from: employees
    key: data.employee
    description: The employee asking for leave.

states:
  draft:
    description: The employee fills in the request.
  with_manager:
    description: The manager decides.
    waiting:
      for: the manager to approve or decline
      timeout: {seconds: 604800, to: expired}
  approved: {final: completed}
  declined: {final: refused}
  expired: {final: timed_out}

events:
  submit:
    description: The employee sends the request for a number of days.
    payload:
      type: object
      required: [days]
      additionalProperties: false
      properties:
        days: {type: integer, minimum: 1}
  approve:
    description: A manager approves.
    payload:
      type: object
      required: [manager]
      additionalProperties: false
      properties:
        manager: {type: string}
  decline:
    description: The manager declines.

guards:
  employee_exists:
    rule: L1
    when: person != null
    message: "There is no employee '{data.employee}'."
  enough_days_left:
    rule: L2
    when: payload.days <= person.days_left
    message: "{person.name} has {person.days_left} days left, fewer than asked for."
  is_their_manager:
    rule: L3
    when: payload.manager == person.manager
    message: "'{payload.manager}' is not the manager of {person.name}."

transitions:
  - event: submit
    from: draft
    to: with_manager
    guards: [employee_exists, enough_days_left]
    actions:
      - set: {path: data.days, value: payload.days}
    description: Send the request to the manager.
  - event: approve
    from: with_manager
    to: approved
    guards: [is_their_manager]
    actions:
      - set: {path: "world.employees[data.employee].days_left", value: person.days_left - data.days}
    description: The manager approves; the days are taken off the balance.
  - event: decline
    from: with_manager
    to: declined
    description: The manager declines.
"""

WORLD = """\
# The data the workflow acts on: collections of records, each keyed by id.
world: office
description: Two employees and their manager.
collections:
  employees:
    ana: {name: Ana, manager: mo, days_left: 12}
    ben: {name: Ben, manager: mo, days_left: 2}
"""

WORLD_SCHEMA = """\
# The shape of the world's records: which collections exist and what a record holds.
# Worlds below this folder are checked against it, and so is what the workflows read.
world_schema: office
collections:
  employees:
    description: Employees, by user id.
    record:
      type: object
      additionalProperties: false
      required: [name, manager, days_left]
      properties:
        name: {type: string, minLength: 1}
        manager: {type: string, description: The user id of the employee's manager.}
        days_left: {type: integer, minimum: 0, description: Days of leave left this year.}
"""

SCENARIO_APPROVED = """\
scenario: l1_l3_manager_approves_leave
description: Ana asks for five days; someone else cannot approve, her manager can.
rules: [L1, L3]
workflow: leave_request
world: ../../workflows/worlds/office.yaml
data: {employee: ana}
steps:
  - send: submit
    payload: {days: 5}
    expect: {state: with_manager, available: [approve, decline]}
  - send: approve
    payload: {manager: ben}
    expect:
      refused: {guard: is_their_manager, rule: L3}
  - send: approve
    payload: {manager: mo}
    expect:
      outcome: completed
      world: {employees.ana.days_left: 7}
"""

SCENARIO_REFUSED = """\
scenario: l2_not_enough_days_left
description: Ben has two days left and asks for five; the request stays a draft.
rules: [L2]
workflow: leave_request
world: ../../workflows/worlds/office.yaml
data: {employee: ben}
steps:
  - send: submit
    payload: {days: 5}
    expect:
      refused:
        guard: enough_days_left
        rule: L2
        message: Ben has 2 days left, fewer than asked for.
      state: draft
"""

README = """\
# {name}

Workflows run by linkflow; the project was started with `linkflow init`.

- `workflows/`: the workflows (`*.yaml`) and, in `workflows/worlds/`, the data they act on.
- `tests/scenarios/`: scenarios, each a list of events and what must happen.
- `.pre-commit-config.yaml`: validate and test before each commit (`pre-commit install`).
- `.linkflow/schemas/`: the JSON schemas your editor checks the YAML files against; after
  upgrading linkflow, refresh them with
  `linkflow schema workflow > .linkflow/schemas/workflow.schema.json` (and `world`, `scenario`).

```
linkflow validate            # check the workflows and worlds
linkflow test                # run the scenarios (pytest runs them too)
linkflow show leave_request  # the workflow in words
linkflow render              # draw the diagrams into diagrams/
```
"""

PRE_COMMIT_CONFIG = """\
# https://pre-commit.com: `pre-commit install` runs these before each commit. They use the
# linkflow installed here; see linkflow's docs/install.md for the hooks from its repository instead.
repos:
  - repo: local
    hooks:
      - id: linkflow-validate
        name: linkflow validate
        entry: linkflow validate workflows tests/scenarios
        language: system
        files: \\.ya?ml$
        pass_filenames: false
      - id: linkflow-test
        name: linkflow test
        entry: linkflow test
        language: system
        files: \\.ya?ml$
        pass_filenames: false
"""

VSCODE_SETTINGS = """\
{
  "yaml.schemas": {
    "./.linkflow/schemas/workflow.schema.json": ["workflows/*.yaml"],
    "./.linkflow/schemas/world.schema.json": ["workflows/worlds/*.yaml"],
    "./.linkflow/schemas/scenario.schema.json": ["tests/scenarios/**/*.yaml"]
  }
}
"""


def project_files(name: str) -> dict[str, str]:
    """Every text file of a new project, by path relative to its root (schemas aside)."""
    return {
        "README.md": README.replace("{name}", name),
        "workflows/leave_request.yaml": schema_line("workflow", 1) + WORKFLOW,
        "workflows/worlds/office.yaml": schema_line("world", 2) + WORLD,
        "workflows/world.schema.yaml": schema_line("world_schema", 1) + WORLD_SCHEMA,
        "tests/scenarios/l1_l3_manager_approves_leave.yaml": schema_line("scenario", 2)
        + SCENARIO_APPROVED,
        "tests/scenarios/l2_not_enough_days_left.yaml": schema_line("scenario", 2)
        + SCENARIO_REFUSED,
        ".vscode/settings.json": VSCODE_SETTINGS,
        ".pre-commit-config.yaml": PRE_COMMIT_CONFIG,
    }
