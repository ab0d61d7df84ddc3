"""Items 16 and 17: every Markdown output escapes workflow text through one function, bare
URLs do not become links, and Mermaid labels keep no directive or markup characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkflow.language.loader import load_workflow
from linkflow.language.markdown import md
from linkflow.language.model import Workflow
from linkflow.output.mermaid import text as mermaid_text
from linkflow.output.pages import workflow_page
from tests.hostile.helpers import cli, tiny_workflow, write

TITLE = "<script>alert(1)</script> <img src=x onerror=alert(1)> [link](http://evil.example) ## h"


def test_explore_markdown_escapes_the_title(tmp_path: Path) -> None:
    workflow = tiny_workflow(extra={"title": TITLE})
    path = write(tmp_path / "t.yaml", workflow)
    done = cli("explore", str(path), "--format", "markdown")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first == f"# {md(TITLE)}: exploration"
    for raw in ("<script>", "<img", "[link](", "http://"):
        assert raw not in done.stdout


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("see https://evil.example/x now", "https://"),
        ("see HTTP://evil.example", "HTTP://"),
        ("go to www.evil.example", "www."),
        ("mail eve@evil.example", "eve@evil"),
        ("<https://evil.example>", "<https"),
    ],
)
def test_bare_urls_do_not_become_links(text: str, absent: str) -> None:
    escaped = md(text)
    assert absent not in escaped
    assert "&#8203;" in escaped


def test_docs_use_the_same_escaping(tmp_path: Path) -> None:
    workflow: Workflow = load_workflow(
        write(tmp_path / "t.yaml", tiny_workflow(extra={"title": TITLE}))
    )
    page = workflow_page(workflow)
    assert md(TITLE) in page
    assert "http://" not in page


@pytest.mark.parametrize(
    "label",
    [
        "%%{init: {'securityLevel': 'loose'}}%%",
        "a}%%{init: {'theme': 'dark'}}%%",
        "x' onclick='y",
    ],
)
def test_mermaid_labels_encode_directives(label: str) -> None:
    encoded = mermaid_text(label)
    for char in "%{}'\"<>":
        assert char not in encoded
    assert "#37;#37;#123;init" in encoded or "#39;" in encoded
