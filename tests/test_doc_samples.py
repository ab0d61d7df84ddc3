"""Sample outputs that a page shows apart from a console block, compared with a real run.

docs/service.md shows a session with the service as a shell block (load the world, start the
service, start an instance, send a refused event) and the answer as a JSON block. This test
runs that block's commands, on a store and a port of its own, and compares the last answer
with the page's JSON.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _blocks(text: str, after: str) -> tuple[list[str], str]:
    """The commands of the first shell block containing `after` and the JSON block after it."""
    start = text.index(after)
    shell = text.rindex("```sh\n", 0, start) + len("```sh\n")
    body = text[shell : text.index("\n```", shell)]
    commands = body.replace("\\\n", " ").splitlines()
    answer = text.index("```json\n", start) + len("```json\n")
    return commands, text[answer : text.index("\n```", answer)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
def test_the_service_page_shows_what_the_service_answers(tmp_path: Path) -> None:
    commands, shown = _blocks((ROOT / "docs" / "service.md").read_text("utf-8"), "linkflow serve &")
    assert commands[:2] == [
        "linkflow world load workflows/worlds/ads_manager_demo.yaml",
        "linkflow serve &",
    ]
    port = _free_port()
    linkflow = [sys.executable, "-m", "linkflow"]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "engine"),
        "LINKFLOW_STORE": f"sqlite:///{tmp_path / 'store.db'}",
    }

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    loaded = run([*linkflow, *shlex.split(commands[0])[1:]])
    assert loaded.returncode == 0, loaded.stderr
    server = subprocess.Popen(
        [*linkflow, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the service did not start"
                time.sleep(0.2)
        answer = ""
        for command in commands[2:]:
            local = command.replace("localhost:8080", f"127.0.0.1:{port}")
            done = run(["bash", "-c", local])
            assert done.returncode == 0, done.stderr
            answer = done.stdout
        assert json.loads(answer) == json.loads(shown)
    finally:
        server.terminate()
        server.wait(timeout=60)
