"""`linkflow serve` reads each workflow file once: the service's catalog, the store's
definitions and the mounted studio share the models the loader built from that one read."""

from __future__ import annotations

import builtins
import io
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from linkflow.cli import main
from tests.support.store import CASES

#: The mounted studio's launch token (a service without a token has the studio keep its own).
STUDIO_TOKEN = "startup-reads-studio-token-0123456789"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[Path]:
    """Every opening of a file for reading, by resolved path: `open` and `io.open`, which
    `Path.read_text` and `Path.read_bytes` go through too."""
    counted: Counter[Path] = Counter()
    real_open = io.open

    def opening(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path) and "r" in mode:
            counted[Path(file).resolve()] += 1
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", opening)
    monkeypatch.setattr(io, "open", opening)
    return counted


def test_serve_reads_each_workflow_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads: Counter[Path]
) -> None:
    built: list[Starlette] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: built.append(app))
    monkeypatch.setattr("linkflow.service.request_log.configure_logging", lambda *a: None)
    # The test client runs the app in a thread, where signal handlers cannot be set.
    monkeypatch.setattr("linkflow.service.app._on_terminate", lambda *a: None)
    monkeypatch.setenv("LINKFLOW_STUDIO_TOKEN", STUDIO_TOKEN)
    folder = tmp_path / "workflows"
    shutil.copytree(CASES, folder)
    files = sorted(p.resolve() for p in folder.glob("*.yaml"))
    assert len(files) >= 3
    store = f"sqlite:///{tmp_path / 'store.db'}"
    assert main(["serve", str(folder), "--store", store, "--port", "8123"]) == 0
    (app,) = built
    # the studio's launch token is taken from LINKFLOW_STUDIO_TOKEN (set above); its Host
    # must be a loopback one
    with TestClient(app, base_url="http://127.0.0.1:8123") as client:  # the lifespan runs
        assert client.get("/workflows").status_code == 200
        started = client.post("/instances", json={"workflow": "tally", "data": {"board": "b1"}})
        assert started.status_code == 201, started.text
        ident = started.json()["id"]
        assert client.post(f"/instances/{ident}/events", json={"event": "close"}).status_code
        assert client.get(f"/studio/?token={STUDIO_TOKEN}").status_code == 200  # the cookie
        studio = client.get(f"/studio/api/instances/{ident}")
        assert studio.status_code == 200, studio.text
        assert client.get("/studio/api/instances").status_code == 200
    assert {f: reads[f] for f in files} == dict.fromkeys(files, 1)
