"""What is committed holds nothing of the machine it was made on.

A benchmark run once swept two SQLite databases from a hand-made temporary folder into a commit,
and RESULTS.md kept the absolute path of a virtual environment: both say nothing to a reader
on another machine and leak where the work was done.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def committed_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return [ROOT / name for name in listing.split("\0") if name]


def machine_paths() -> re.Pattern[str]:
    """Absolute paths that only make sense on one machine."""
    here = [str(ROOT), str(Path.home()), sys.prefix]
    known = "|".join(re.escape(p.rstrip("/") + "/") for p in here if len(p) > 1)
    generic = r"/tmp/(?:tmp|pytest-of-|linkflow-)\w|/work/\w|/home/\w+/|/root/\w|/Users/\w+/"
    return re.compile(f"{known}|{generic}")


def test_no_committed_text_holds_an_absolute_machine_path() -> None:
    pattern = machine_paths()
    found = []
    for path in committed_files():
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary: images
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if pattern.search(line) and path.name != Path(__file__).name:
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == []


def test_the_check_sees_a_machine_path() -> None:
    pattern = machine_paths()
    assert pattern.search(f"each command runs as {ROOT}/.venv/bin/linkflow")
    assert pattern.search("exit 1: /tmp/linkflow-bench-9t93tbjf/walks/walk_19.yaml")
    assert not pattern.search("python -m benchmarks.generate -o big.yaml")


def test_no_database_or_temporary_folder_is_committed() -> None:
    names = [p.relative_to(ROOT) for p in committed_files()]
    assert [n for n in names if n.suffix in (".db", ".sqlite", ".sqlite3")] == []
    assert [n for n in names if re.fullmatch(r"tmp\w*", n.parts[0])] == []
