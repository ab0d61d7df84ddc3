"""The end-of-session check sees a file left in a checkout and a child process left running."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.leftovers import checkout_files, leftovers


def test_a_new_file_and_a_running_child_are_listed(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("*.db\n__pycache__/\n", encoding="utf-8")
    before = checkout_files(tmp_path)
    # Other tests in this worker may still hold a server of a module-scoped fixture: only what
    # this test adds counts.
    already = set(leftovers(tmp_path, before))
    (tmp_path / "left.db").write_bytes(b"")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"")
    child = subprocess.Popen(["sleep", "30"])
    try:
        found = [f for f in leftovers(tmp_path, before) if f not in already]
    finally:
        child.kill()
        child.wait()
    assert "file left in the checkout: left.db" in found
    assert f"child process still running: {child.pid} sleep" in found
    assert not [f for f in found if "__pycache__" in f]
    assert not set(leftovers(tmp_path, checkout_files(tmp_path))) - already
