"""Definitions: the store keeps the text the loader read, under its hash; a loaded model is
registered as it is (its file is not read again); stored text is built by the same loader."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from linkflow.errors import UsageError
from linkflow.language.loader import load, load_text, workflow_from_text
from linkflow.language.model import content_hash
from linkflow.store import Store
from tests.support.store import BOARDS, CASES, CHAIN, ROOT, TALLY


def test_a_loaded_workflow_carries_the_text_read_and_its_hash() -> None:
    workflow = load([CHAIN]).workflows["chain"]
    text = CHAIN.read_text(encoding="utf-8-sig")
    assert workflow.source == text
    assert workflow.source_hash == content_hash(text)


def test_text_is_built_through_the_same_stages_as_a_file() -> None:
    text = CHAIN.read_text(encoding="utf-8")
    built = workflow_from_text(text, "stored.yaml", check_graph=False)
    assert built.name == "chain"
    assert built.source_hash == load([CHAIN]).workflows["chain"].source_hash
    broken = load_text(text.replace("initial: a", "initial: nowhere"), "stored.yaml")
    assert not broken.ok
    assert "unknown initial state 'nowhere'" in str(broken.problems[0])


def test_building_stored_text_again_does_not_import_networkx() -> None:
    code = (
        "import sys\n"
        "from linkflow.language.loader import workflow_from_text\n"
        f"workflow_from_text(open({str(CHAIN)!r}).read(), 'x.yaml', check_graph=False)\n"
        "assert 'networkx' not in sys.modules, 'networkx was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_a_loaded_workflow_starts_without_its_file_being_read_again(
    store_url: str, tmp_path: Path
) -> None:
    copy = tmp_path / "chain.yaml"
    shutil.copy(CHAIN, copy)
    workflow = load([copy]).workflows["chain"]
    copy.unlink()  # a second read would fail
    with Store.open(store_url) as store:
        record = store.start(workflow, {"note": "x"})
        assert record.definition == workflow.source_hash
        stored = store.definition("chain")
        assert (stored.hash, stored.source, stored.file) == (
            workflow.source_hash,
            workflow.source,
            str(copy),
        )
    with Store.open(store_url) as other:  # another process builds it from the stored text
        assert other.send(record.id, "stop").step.accepted
        assert other.engine(record.definition).workflow.source == workflow.source


def test_registering_models_needs_their_handoff_targets(store_url: str) -> None:
    loaded = load([TALLY]).workflows
    with Store.open(store_url) as store:
        with pytest.raises(UsageError, match="hands off to 'tally_review'"):
            store.register(loaded["tally"])
        first = store.register(loaded["tally"], loaded["tally_review"])
        assert first.name == "tally"
        assert store.register(loaded["tally"]).hash == first.hash  # its target is stored now
        store.load_world(BOARDS)
        assert store.start("tally", {"board": "b1"}).workflow == "tally"


def test_a_workflow_without_its_text_is_refused(store_url: str) -> None:
    bare = replace(load([CASES / "chain.yaml"]).workflows["chain"], source="", source_hash="")
    with Store.open(store_url) as store, pytest.raises(UsageError, match="no source text"):
        store.start(bare)
