"""Docs generated from workflows: content, order, escaping and the stale check."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.cli.commands.docs import run as docs_run
from engine.language.loader import load_workflow
from engine.language.markdown import md
from engine.language.model import Workflow
from engine.output.docs import doc_files, workflow_page

from .test_diagrams import HOSTILE


@pytest.fixture
def example(root: Path) -> Workflow:
    return load_workflow(root / "examples" / "document_review.yaml")


def test_page_has_steps_in_walking_order(example: Workflow) -> None:
    page = workflow_page(example)
    steps = page.split("## Steps", 1)[1].split("\n## ", 1)[0]
    assert steps.index("1. **The author is writing.** (`draft`)") < steps.index(
        "2. **The reviewer has the document.** (`in_review`)"
    )
    assert "`submit` → `in_review` — Send the document to review." in steps
    assert "needs `document_exists D1`" in steps
    assert "It is done in `published`." in steps
    # cancel and timeout are listed apart from the steps
    other = page.split("## Other branches", 1)[1].split("\n## ", 1)[0]
    assert "From any step that is not final:" in other
    assert "`withdraw` → `withdrawn`" in other
    assert "in `in_review` after 24 h: no answer → `expired`" in other
    assert "`withdraw`" not in steps


def test_page_lists_guards_with_rules_and_messages(example: Workflow) -> None:
    page = workflow_page(example)
    assert "![Diagram of Document review](../diagrams/document_review.svg)" in page
    assert "- **D2** `payload.reviewer != doc.author`" in page
    assert (
        "| D2 | `reviewer_is_not_author` | on `approve` in `in_review` | "
        "'`{payload.reviewer}`' wrote '`{doc.title}`' and cannot review it. |"
    ) in page
    assert "| D3 | `code_is_valid` |" in page
    assert "`in_review` waits for the reviewer to approve or reject; after 24 h" in page
    assert "| `approve` | The reviewer approves, signing with a one-time code. |" in page
    assert "`code` (secret)" in page


def test_hostile_text_is_inert(tmp_path: Path) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    page = workflow_page(load_workflow(path))
    assert "<script" not in page
    assert "<a href" not in page
    assert "<img" not in page
    assert "](javascript" not in page
    assert "&lt;script&gt;guard&lt;/script&gt;" in page
    # a `|` in a message cannot split the table row
    row = next(line for line in page.splitlines() if line.startswith("| R1 |"))
    assert row.count("|") - row.count("\\|") == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a_b *c* [x](javascript:y)", "a_b \\*c\\* \\[x\\](javascript:y)"),
        ("# not a heading", "\\# not a heading"),
        ("1. not a list", "1\\. not a list"),
        ("<b>&</b>", "&lt;b&gt;&amp;&lt;/b&gt;"),
        ("line\nbreak", "line break"),
    ],
)
def test_markdown_escaping(text: str, expected: str) -> None:
    assert md(text) == expected


def test_docs_check_names_stale_and_missing(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "docs"

    def args(check: bool, fmt: str = "text") -> argparse.Namespace:
        return argparse.Namespace(
            paths=[str(root / "examples")],
            out=str(out),
            diagrams="diagrams",
            check=check,
            format=fmt,
        )

    assert docs_run(args(False), io.StringIO()) == 0
    assert docs_run(args(True), io.StringIO()) == 0
    (out / "document_review.md").write_text("edited\n", encoding="utf-8")
    (out / "README.md").unlink()
    capsys.readouterr()
    assert docs_run(args(True), io.StringIO()) == 1
    err = capsys.readouterr().err
    assert f"stale: {out / 'document_review.md'}" in err
    assert f"missing: {out / 'README.md'}" in err


def test_docs_never_overwrite_a_page_they_did_not_generate(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "README.md").write_text("# My own notes\n", encoding="utf-8")
    (out / "notes.md").write_text("# Not a workflow page\n", encoding="utf-8")
    argv = ["docs", str(root / "examples"), "--out", str(out), "--format", "json"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert f"not overwriting {out / 'README.md'}" in captured.err
    report = json.loads(captured.out)
    assert report["not_overwritten"] == [str(out / "README.md")]
    assert report["written"] == [str(out / "document_review.md")]
    assert report["orphans"] == []
    assert (out / "README.md").read_text(encoding="utf-8") == "# My own notes\n"
    assert (out / "notes.md").is_file()
    # A page it generated is rewritten when its workflow changes.
    (out / "document_review.md").write_text(
        (out / "document_review.md").read_text(encoding="utf-8") + "edited\n", encoding="utf-8"
    )
    (out / "README.md").unlink()
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["written"]) == [str(out / "README.md"), str(out / "document_review.md")]


def test_docs_are_deterministic(example: Workflow) -> None:
    assert doc_files({"d": example}) == doc_files({"d": example})
