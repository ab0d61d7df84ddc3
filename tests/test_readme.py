"""The README's examples stay true: its workflow example loads clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks.readme_table import END, START, targets_block
from linkflow import load

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_workflow_example_is_valid(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(workflow: .*?)```", readme, re.S)
    assert block is not None
    example = tmp_path / "example.yaml"
    example.write_text(block.group(1), encoding="utf-8")
    result = load([example])
    assert [str(p) for p in result.problems] == []
    assert list(result.workflows) == ["document_review"]


def test_the_benchmark_table_is_what_the_committed_results_say() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    block = readme[readme.index(START) : readme.index(END) + len(END)]
    assert block == targets_block(results), "run `python -m benchmarks.readme_table`"
    assert not results["quick"]
