"""Schemathesis, a checker we did not write, tests a real `linkflow serve` from its own
/openapi.json: every check (no 5xx, answers on their schemas and statuses, schema-valid requests
accepted and the others refused, the token enforced, Allow headers, links), in the coverage,
fuzzing and stateful phases, with and without a token.

It runs from its own venv (.venv-schemathesis, made by `make`; constraints-schemathesis.txt says
why), or from the executable LINKFLOW_SCHEMATHESIS names. Bounded: 20 examples an operation, a
fixed seed, one worker, no example database; about 25 s a server.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.service.server import ROOT, ServiceProcess
from tests.support.requirements import unavailable

pytestmark = pytest.mark.slow

TOKEN = "schemathesis-token-0123456789abcdef"
SEED = 20261207
MAX_EXAMPLES = 20
RUN_SECONDS = 150

#: A request the document allows may still be answered 412 (If-Match names an older version)
#: or 422 (the event is another workflow's: the schema cannot know which workflow the instance
#: in the path runs). Both are the service's documented answers, not a refusal of valid data.
#: sendEvent, cancelInstance and terminateInstance (each with an If-Match) also take 400:
#: Schemathesis 4.32's coverage phase sends a generated If-Match of "0" (pattern
#: ^"[0-9]{1,18}"$) as 0, without its quotes, and counts the refusal against us.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "412", "422"]
""" + "".join(
    f"""
[[operations]]
include-operation-id = "{operation}"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "412", "422"]
"""
    for operation in ("sendEvent", "cancelInstance", "terminateInstance")
)


def schemathesis() -> str:
    named = os.environ.get("LINKFLOW_SCHEMATHESIS")
    found = Path(named) if named else ROOT / ".venv-schemathesis" / "bin" / "schemathesis"
    if not found.is_file():
        unavailable(f"Schemathesis is not installed at {found} (make setup installs it)")
    return str(found)


#: Run by the Python of Schemathesis's venv: the document against the OpenAPI 3.1 schema that
#: Schemathesis ships (errors printed, exit 1 when there is any).
VALIDATE = """
import json, sys
import jsonschema_rs
from schemathesis.specs.openapi.definitions import OPENAPI_31
errors = list(jsonschema_rs.validator_for(OPENAPI_31).iter_errors(json.load(sys.stdin)))
for error in errors:
    print(error.instance_path, error.message[:300])
sys.exit(1 if errors else 0)
"""


def validate_openapi(tool: str, document: str) -> None:
    python = Path(tool).with_name("python")
    ran = subprocess.run(
        [str(python), "-c", VALIDATE],
        input=document,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


@pytest.mark.parametrize("token", [None, TOKEN], ids=["no-token", "token"])
def test_schemathesis_finds_nothing(tmp_path: Path, token: str | None) -> None:
    tool = schemathesis()
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    with ServiceProcess(str(ROOT / "workflows"), token=token) as server:
        with server.client() as http:
            validate_openapi(tool, http.get("/openapi.json").text)
        command = [tool, "--config-file", str(config), "run", f"{server.url}/openapi.json"]
        command += ["--checks", "all", "--phases", "examples,coverage,fuzzing,stateful"]
        command += ["--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1"]
        command += ["--generation-database", "none", "--request-timeout", "10", "--no-color"]
        # The stream stays open for its whole life (30 s) per request; its parameters are
        # checked by test_hostile and test_reading.
        command += ["--exclude-path", "/feed/stream"]
        if token:
            command += ["--header", f"Authorization: Bearer {token}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMATHESIS_", "PYTEST"))}
        ran = subprocess.run(
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
        )
    report = ran.stdout + ran.stderr
    assert ran.returncode == 0, report
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert phase in report, report
