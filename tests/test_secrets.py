"""A secret payload field's value never shows: not in history, steps, messages, output or logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkflow import Step, Workflow
from linkflow.language.loader import load, load_workflow
from linkflow.runtime.engine import Engine
from linkflow.runtime.instance import Instance
from linkflow.runtime.world_loader import load_world
from linkflow.store import Store

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "tests" / "cases" / "runtime"
SECRET = "S3cr3t-canary-value"


@pytest.fixture(scope="module")
def workflow() -> Workflow:
    return load_workflow(RUNTIME / "secrets.yaml")


@pytest.fixture
def instance(workflow: Workflow) -> Instance:
    world, problems = load_world(RUNTIME / "secrets_world.yaml")
    assert world is not None, problems
    # A fixed clock: the digits of a real time could hold a secret by chance.
    return Engine(workflow).create({}, world, clock=lambda: 1_000_000.0)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything logged at DEBUG, the `transitions` library's loggers included."""
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="transitions"):
        yield caplog


def everything_shown(instance: Instance, steps: list[Step], logs: pytest.LogCaptureFixture) -> str:
    parts: list[Any] = [repr(instance.history), repr(steps), repr(instance.data)]
    parts += [json.dumps(entry.as_dict()) for entry in instance.history]
    parts += [json.dumps(step.as_dict()) for step in steps]
    parts += [str(step.refusal) for step in steps if step.refusal]
    parts += [o.reason for o in instance.available_events()]
    parts += [record.getMessage() for record in logs.records]
    parts += [logs.text]
    return "\n".join(str(p) for p in parts)


#: (event, payload, the refusal kind expected, or "" when the step is taken)
SENDS: list[tuple[str, dict[str, Any], str]] = [
    ("unlock", {"user": "ana", "pin": SECRET}, "invalid_payload"),  # pattern and maxLength fail
    ("unlock", {"user": "ana", "pin": SECRET, "colour": "red"}, "invalid_payload"),
    ("unlock", {"user": "ana", "pin": [SECRET]}, "invalid_payload"),
    ("check", {"pin": SECRET}, "guard"),  # the guard itself errors on int(payload.pin)
    ("check", {"pin": SECRET, "extra": 1}, "guard"),
    ("poke", {"pin": SECRET}, "invalid_payload"),  # an event that takes no payload
    ("unlokc", {"pin": SECRET}, "unknown_event"),  # a typo in the event name
    ("timeout", {"pin": SECRET}, "unknown_event"),
    ("unlock", {"user": "ana", "pin": "0000"}, "guard"),
    ("unlock", {"user": "ana", "pin": "1234"}, ""),
    ("check", {"pin": SECRET}, "finished"),
]


@pytest.mark.parametrize("count", range(1, len(SENDS) + 1))
def test_secret_never_shows_in_history_steps_messages_or_logs(
    instance: Instance, logs: pytest.LogCaptureFixture, count: int
) -> None:
    steps = []
    for event, payload, kind in SENDS[:count]:
        step = instance.send(event, payload)
        steps.append(step)
        assert (step.refusal.kind.value if step.refusal else "") == kind, step
    assert SECRET not in everything_shown(instance, steps, logs)


def test_a_guard_compares_the_secret_without_showing_it(
    instance: Instance, logs: pytest.LogCaptureFixture
) -> None:
    step = instance.send("unlock", {"user": "ana", "pin": "9876"})
    assert step.refusal is not None
    assert step.refusal.message == "Wrong PIN for ana."
    assert "9876" not in everything_shown(instance, [step], logs)


def test_the_secret_is_usable_by_guards_but_not_recorded(instance: Instance) -> None:
    step = instance.send("unlock", {"user": "ana", "pin": "1234"})
    assert step.accepted
    assert instance.history[-1].payload == {"user": "ana"}
    assert "1234" not in repr(instance.history)
    assert instance.data["user"] == "ana"


def test_the_public_fields_are_still_recorded(instance: Instance) -> None:
    instance.send("unlock", {"user": "ana", "pin": SECRET})
    assert instance.history[-1].payload == {"user": "ana"}


def test_the_transitions_library_logs_and_still_shows_no_secret(
    instance: Instance, logs: pytest.LogCaptureFixture
) -> None:
    instance.send("check", {"pin": "1"})
    instance.send("unlock", {"user": "ana", "pin": "1234"})
    assert any(r.name.startswith("transitions") for r in logs.records)
    assert "1234" not in logs.text


def test_a_message_template_may_not_name_a_secret_field(tmp_path: Path) -> None:
    text = (RUNTIME / "secrets.yaml").read_text(encoding="utf-8")
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(text.replace("Wrong PIN for {payload.user}.", "Wrong PIN {payload.pin}."))

    result = load([leaky])
    assert [p.message for p in result.problems] == [
        "a refusal message may not use the secret payload field 'pin'"
    ]


# -- the CLI --------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkflow", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_linkflow_run_never_prints_the_secret(fmt: str) -> None:
    result = run_cli(
        "run",
        "tests/cases/runtime/secrets.yaml",
        "--world",
        "tests/cases/runtime/secrets_world.yaml",
        "--format",
        fmt,
        "--event",
        f'check={{"pin": "{SECRET}"}}',
        "--event",
        f'unlock={{"user": "ana", "pin": "{SECRET}"}}',
        "--event",
        f'poke={{"pin": "{SECRET}"}}',
        "--event",
        f'unlokc={{"pin": "{SECRET}"}}',
        "--event",
        'unlock={"user": "ana", "pin": "1234"}',
    )
    assert result.returncode == 1, result.stderr  # some events were refused
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    assert "1234" not in result.stdout + result.stderr
    if fmt == "json":
        report = json.loads(result.stdout)
        assert report["state"] == "open"
    else:
        assert "'open' (completed)" in result.stdout


# -- a message that names the whole payload -------------------------------------------------

#: Four digits (the PIN's pattern) that appear nowhere else: the wrong PIN sent.
WRONG_PIN = "8642"


def whole_payload_workflow(folder: Path) -> Path:
    """secrets.yaml with a refusal message that shows `{payload}`: allowed, since it names no
    secret field, and it must then show the payload without its secret fields."""
    text = (RUNTIME / "secrets.yaml").read_text(encoding="utf-8")
    shown = text.replace("Wrong PIN for {payload.user}.", "Wrong PIN; sent {payload}.")
    assert shown != text
    path = folder / "pin_login.yaml"
    path.write_text(shown, encoding="utf-8")
    return path


def test_a_message_naming_the_whole_payload_shows_it_without_the_secret(
    tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    workflow = load_workflow(whole_payload_workflow(tmp_path))
    world, problems = load_world(RUNTIME / "secrets_world.yaml")
    assert world is not None, problems
    instance = Engine(workflow).create({}, world, clock=lambda: 1_000_000.0)
    step = instance.send("unlock", {"user": "ana", "pin": WRONG_PIN})
    assert step.refusal is not None
    assert step.refusal.kind.value == "guard"
    assert "ana" in step.refusal.message  # the public field shows: the payload was rendered
    assert WRONG_PIN not in step.refusal.message
    assert instance.history[-1].refusal == step.refusal
    assert WRONG_PIN not in everything_shown(instance, [step], logs)


def test_a_message_naming_the_whole_payload_is_stored_without_the_secret(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    with Store.open(f"sqlite:///{folder / 'linkflow.db'}", clock=lambda: 1_000_000.0) as store:
        store.load_world(RUNTIME / "secrets_world.yaml")
        started = store.start(whole_payload_workflow(tmp_path))
        sent = store.send(started.id, "unlock", {"user": "ana", "pin": WRONG_PIN})
        assert sent.step.refusal is not None
        assert "ana" in sent.step.refusal.message
        [stored] = store.history(started.id)
        assert stored.entry.refusal == sent.step.refusal
        shown = [repr(store.history(started.id)), repr(store.get(started.id)), repr(sent)]
        assert WRONG_PIN not in "\n".join(shown)
        written = b"".join(p.read_bytes() for p in folder.iterdir())  # the WAL too
    written += b"".join(p.read_bytes() for p in folder.iterdir())
    assert b"Wrong PIN; sent" in written  # the refusal was stored, message and all
    assert WRONG_PIN.encode() not in written
