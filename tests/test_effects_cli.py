"""`linkflow worker`, `linkflow effects list|show|retry` and the effect counts of `linkflow
status`: what they print, their exit codes on bad input, and a worker that stops cleanly on
SIGTERM (its claims handed back, one log line per attempt, no secret in it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkflow.cli import main
from linkflow.language.services import Auth
from linkflow.runtime.effect_calls import EffectCall
from linkflow.store import Store
from linkflow.store.outbox import Outbox
from tests.support.effect_steps import causing, invoke, notify, write_flow
from tests.support.fake_api import FakeApi, fake_api

ROOT = Path(__file__).resolve().parent.parent
SECRET_VALUE = "cli-secret-value-never-logged-77"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with fake_api() as served:
        yield served


def _asked(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch, *calls: EffectCall) -> str:
    with Store.open(url) as store, causing(monkeypatch, {"ask": lambda step: calls}):
        started = store.start(write_flow(folder))
        store.send(started.id, "ask")
    return started.id


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "engine"), "SUPPLIER_TOKEN": SECRET_VALUE}


def test_worker_once_performs_what_is_due_and_effects_shows_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    auth = Auth("bearer", env="SUPPLIER_TOKEN")
    instance_id = _asked(
        url,
        tmp_path,
        monkeypatch,
        invoke(api.url + "/ok", auth=auth),
        notify(api.url + "/missing"),
    )
    assert main(["status", instance_id, "--store", url]) == 0
    assert "effects    pending 2 (retrying 0)" in capsys.readouterr().out
    done = subprocess.run(
        [sys.executable, "-m", "linkflow", "worker", "--store", url, "--once", "--format", "json"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    assert counts == {**counts, "done": 1, "failed": 1, "attempts": 2}
    assert done.stderr.count("effect attempt") == 2  # one line per attempt
    assert SECRET_VALUE not in done.stderr
    assert f"Bearer {SECRET_VALUE}" in api.authorizations

    assert main(["effects", "list", "--store", url]) == 0
    listed = capsys.readouterr().out
    assert listed.splitlines()[0].startswith("pending 0 (retrying 0), running 0, dead 0, failed 1")
    assert main(["effects", "list", "--status", "failed", "--store", url, "--format", "json"]) == 0
    (failed,) = json.loads(capsys.readouterr().out)["effects"]
    assert failed["last_error"] == "the service answered HTTP 404 (not retried)"
    assert main(["effects", "show", failed["id"], "--store", url]) == 0
    shown = capsys.readouterr().out
    assert "last error the service answered HTTP 404 (not retried)" in shown
    assert f"key        {failed['idempotency_key']}" in shown
    assert main(["effects", "retry", failed["id"], "--store", url]) == 0
    assert "is pending again" in capsys.readouterr().out
    assert main(["status", instance_id, "--store", url, "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["effects"]["pending"] == 1
    assert status["effects"]["done"] == 1


def test_bad_effects_commands_say_why_and_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    instance_id = _asked(url, tmp_path, monkeypatch, notify("http://127.0.0.1:9/x"))
    assert main(["effects", "retry", "ef_0000000000000000", "--store", url]) == 1
    assert "no effect 'ef_0000000000000000' in the store" in capsys.readouterr().err
    with Store.open(url) as store:
        (pending,) = Outbox(store).of_instance(instance_id)
    assert main(["effects", "retry", pending.id, "--store", url]) == 1
    assert "is pending: only a dead or failed effect is retried" in capsys.readouterr().err
    assert main(["effects", "list", "--limit", "0", "--store", url]) == 2
    assert main(["worker", "--concurrency", "0", "--store", url]) == 2
    assert "--concurrency must be more than 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["effects", "list", "--status", "sleeping", "--store", url])
    with Store.open(url) as store:
        assert Outbox(store).get(pending.id).status == "pending"


def test_a_worker_stops_cleanly_on_sigterm_and_hands_back_its_claims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: FakeApi
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    instance_id = _asked(url, tmp_path, monkeypatch, notify(api.url + "/hang", timeout=30.0))
    command = [sys.executable, "-m", "linkflow", "worker", "--store", url, "--poll", "0.05"]
    worker = subprocess.Popen(
        command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not any(path == "/hang" for path, _ in api.arrived):
            assert time.monotonic() < deadline, "the worker never made the call"
            assert worker.poll() is None
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=40)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    assert "Traceback" not in err
    assert out.startswith("attempts ")
    with Store.open(url) as store:
        (effect,) = Outbox(store).of_instance(instance_id)
    # the call in flight ran out of grace: handed back, pending for the next worker
    assert effect.status == "pending"
