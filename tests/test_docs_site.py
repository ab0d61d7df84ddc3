"""The docs site's generated reference pages match their sources.

docs_site/generate.py writes the command line reference (from linkflow's argument parser), the
language reference (from the JSON Schemas), the HTTP API page and openapi.json (from the
service's OpenAPI document) and the Python API page (from `linkflow.__all__`). `make docs`
builds the site strictly; this test says which page is stale and how to write it again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linkflow.cli import build_parser
from linkflow.service.openapi import document

ROOT = Path(__file__).resolve().parent.parent
GENERATE = ROOT / "docs_site" / "generate.py"


def _generate(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine")}
    return subprocess.run(
        [sys.executable, str(GENERATE), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_reference_pages_are_up_to_date() -> None:
    result = _generate("--check")
    assert result.returncode == 0, result.stderr


def test_the_cli_reference_has_every_command_and_keeps_the_text_above_it() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    head, generated = page.split("<!-- generated below by `python docs_site/generate.py`", 1)
    assert "Exit codes: 0 ok" in head  # the hand-written part stays
    _, handlers = build_parser()
    for name in handlers:
        assert f"\n### linkflow {name}\n" in generated, name
    assert "\n### linkflow world load\n" in generated  # subcommands too


def test_the_language_reference_names_every_key_of_the_workflow_schema() -> None:
    page = (ROOT / "docs" / "reference" / "language.md").read_text(encoding="utf-8")
    schema = json.loads((ROOT / "schemas" / "workflow.schema.json").read_text(encoding="utf-8"))
    for key in schema["properties"]:
        assert f"| `{key}` |" in page, key
    for name, spec in schema["$defs"].items():
        assert f"### {name} {{#workflow-{name.replace('_', '-')}}}" in page, name
        for key in spec.get("properties", {}):
            assert f"| `{key}` |" in page, (name, key)


def test_the_openapi_file_is_the_document_the_service_serves() -> None:
    served = json.loads((ROOT / "docs" / "reference" / "openapi.json").read_text("utf-8"))
    assert served == document()
    page = (ROOT / "docs" / "reference" / "http.md").read_text(encoding="utf-8")
    for path, operations in served["paths"].items():
        for method in operations:
            assert f"## {method.upper()} `{path}`" in page, (method, path)


def test_a_stale_or_missing_page_is_named_with_the_command_that_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("docs_site_generate", GENERATE)
    assert spec is not None
    assert spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs" / "reference", docs / "reference")
    shutil.copy(ROOT / "docs" / "cli.md", docs / "cli.md")
    (docs / "reference" / "language.md").write_text("edited by hand\n", encoding="utf-8")
    (docs / "reference" / "api.md").unlink()
    monkeypatch.setenv("COLUMNS", generate.WIDTH)  # restored afterwards; the page sets it
    monkeypatch.setattr(generate, "ROOT", tmp_path)
    monkeypatch.setattr(generate, "DOCS", docs)
    assert generate.main(["--check"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "stale: docs/reference/language.md (run: python docs_site/generate.py)",
        "stale: docs/reference/api.md (run: python docs_site/generate.py)",
    ]
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    assert (docs / "reference" / "api.md").read_text(encoding="utf-8") == (
        ROOT / "docs" / "reference" / "api.md"
    ).read_text(encoding="utf-8")
