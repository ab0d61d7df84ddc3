"""SCXML service calls read back: two `<param>`s of one name in an `<invoke>` or a notify's
`<send>` were read with the last one winning, the first dropped without a word; each is now a
problem at its line and column, and nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.hostile.helpers import ROOT, cli

EXAMPLE = ROOT / "examples" / "supplier_order"
INVOKE = '<invoke id="reserve" type="http" src="supplier">'
SEND = '<send event="linkflow.notify" type="http" target="team_hook">'


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> str:
    done = cli("export", "--format", "scxml", str(EXAMPLE / "supplier_order.yaml"))
    assert done.returncode == 0, done.stderr
    assert INVOKE in done.stdout
    assert SEND in done.stdout
    return done.stdout


@pytest.mark.parametrize(
    ("element", "what"), [(INVOKE, "<invoke>"), (SEND, "<send>")], ids=["invoke", "send"]
)
def test_a_param_given_twice_is_a_located_problem(
    tmp_path: Path, exported: str, element: str, what: str
) -> None:
    doubled = element + '<param name="twice" expr="1"/><param name="twice" expr="2"/>'
    source = tmp_path / "in.scxml"
    source.write_text(exported.replace(element, doubled), encoding="utf-8")
    shutil.copy(EXAMPLE / "services.yaml", tmp_path / "services.yaml")
    line = exported[: exported.index(element)].count("\n") + 1
    out = tmp_path / "out.yaml"
    done = cli("import", "scxml", str(source), "-o", str(out))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"in.scxml:{line}:" in done.stdout + done.stderr
    assert f"a second <param> named 'twice' in {what}" in done.stdout + done.stderr
    assert not out.exists()
    # the same document with the param given once imports
    source.write_text(
        exported.replace(element, element + '<param name="twice" expr="1"/>'), encoding="utf-8"
    )
    assert cli("import", "scxml", str(source), "-o", str(out)).returncode == 0
