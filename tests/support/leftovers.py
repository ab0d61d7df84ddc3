"""What a test run may leave behind: nothing. Files in the checkout and child processes still
running are listed at the end of each session (each xdist worker checks its own children).

A test that writes into the checkout changes what the next run sees (and what a commit may
sweep in); a child process left running holds ports, files and PostgreSQL clusters that make
an unrelated later test fail.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: Caches that tools write into the checkout on purpose; none of them is a test's output.
TOOL_CACHES = (".venv/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".hypothesis/")


def checkout_files(root: Path) -> set[str]:
    """Untracked and ignored files in the checkout, apart from bytecode and tool caches."""
    listing = subprocess.run(
        ["git", "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    found = set()
    for entry in listing.split("\0"):
        status, path = entry[:2], entry[3:]
        if status not in ("??", "!!") or not path:
            continue
        if "__pycache__/" in path or ".egg-info/" in path or path.startswith(TOOL_CACHES):
            continue
        found.add(path)
    return found


def live_children(pid: int) -> list[str]:
    """`pid command` of every process whose parent is `pid` and that has not exited."""
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = status.read_text()
        except OSError:
            continue  # it exited while we looked
        name_end = text.rindex(")")
        fields = text[name_end + 2 :].split()
        state, parent = fields[0], int(fields[1])
        if parent == pid and state != "Z":
            found.append(f"{status.parent.name} {text[text.index('(') + 1 : name_end]}")
    return sorted(found)


def leftovers(root: Path, before: set[str]) -> list[str]:
    new_files = sorted(checkout_files(root) - before)
    children = live_children(os.getpid()) if Path("/proc").is_dir() else []
    return [f"file left in the checkout: {p}" for p in new_files] + [
        f"child process still running: {c}" for c in children
    ]
