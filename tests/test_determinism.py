"""Generated files are the same bytes in another process with another hash seed: rendering
twice in one process cannot see set or dict orders that depend on PYTHONHASHSEED, so this is
the one determinism test (diagrams in both views and every format, and the docs)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Renders every workflow of the project (diagrams in every format, docs) and prints a digest
#: of each generated file; run here and in a child process with another hash seed.
SCRIPT = """
import hashlib, json, sys
from linkflow.language.loader import load
from linkflow.output.pages import doc_files
from linkflow.output.diagram_model import View
from linkflow.output.files import diagram_files
result = load([sys.argv[1]])
assert result.ok, result.problems
files = {}
for name, data in diagram_files(
    result.workflows, ["dot", "svg", "mermaid"], views=(View.ENGINEER, View.READER)
).items():
    files["diagram:" + str(name)] = data
for name, text in doc_files(result.workflows).items():
    files["doc:" + str(name)] = text
print(json.dumps({k: hashlib.sha256(v if isinstance(v, bytes) else v.encode()).hexdigest()
                  for k, v in sorted(files.items())}))
"""


def digests(seed: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "workflows")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, str] = json.loads(done.stdout)
    return found


def test_render_and_docs_do_not_depend_on_the_hash_seed() -> None:
    first, second = digests("1"), digests("4242")
    assert len(first) > 10
    assert first == second
    assert hashlib.sha256(b"").hexdigest() not in first.values()
