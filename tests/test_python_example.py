"""The README's Python example runs as written, in memory and durably: one code, both modes;
and every ```python block of the README and the hand-written docs runs."""

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
    """Each ```python block of README.md and docs/ runs as written, its databases moved."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    blocks = [
        (page.relative_to(ROOT).as_posix(), number, code)
        for page in pages
        for number, code in enumerate(
            re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S), 1
        )
    ]
    assert {"README.md", "docs/store.md", "docs/python.md"} <= {name for name, _, _ in blocks}
    monkeypatch.chdir(ROOT)
    for name, number, code in blocks:
        moved = re.sub(r"sqlite:///([\w.]+)", lambda m: f"sqlite:///{tmp_path / m.group(1)}", code)
        exec(compile(moved, f"{name} (Python block {number})", "exec"), {})
    assert not list(ROOT.glob("*.db"))
