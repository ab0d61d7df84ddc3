"""The README's Python example runs as written, in memory and durably: one code, both modes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import linkflow

ROOT = Path(__file__).resolve().parent.parent


def python_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API\n") :]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


@pytest.mark.parametrize("mode", ["memory", "sqlite"])
def test_the_readme_python_example_runs(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = python_example()
    assert "store=None" in code
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    if mode == "sqlite":
        code = code.replace("store=None", f"store={url!r}")
    monkeypatch.chdir(ROOT)  # the example's paths are relative to the project
    exec(compile(code, "README.md (Python API)", "exec"), {})
    if mode == "sqlite":
        with linkflow.open(ROOT / "examples", store=url) as again:
            stored = again.store
            assert stored is not None
            [record] = stored.instances()
            assert (record.state, record.outcome) == ("published", "completed")


def test_every_python_block_of_the_readme_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ```python block runs as written, its databases moved into a temp folder."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)
    for number, code in enumerate(blocks, 1):
        moved = re.sub(r"sqlite:///([\w.]+)", lambda m: f"sqlite:///{tmp_path / m.group(1)}", code)
        exec(compile(moved, f"README.md (Python block {number})", "exec"), {})
    assert not list(ROOT.glob("*.db"))
