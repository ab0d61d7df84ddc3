"""The engine is generic: no word of one product's domain in engine/ or schemas/.

The workflows a project writes may be about anything; the engine that runs them, and the
schemas that describe the files, must read the same for every project. A domain example in a
docstring teaches the wrong thing (that the engine knows about it) and leaks into every
install, so examples there use generic records (documents, reviewers, users).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = (ROOT / "engine", ROOT / "schemas")

#: One product's domain vocabulary, matched case-insensitively. Spaces also match `_` and `-`
#: (identifiers such as `ad_accounts`).
DOMAIN_WORDS = (
    "tiktok",
    "spark ad",
    "business center",
    "business centre",
    "ads manager",
    "smart+",
    "smart plus",
    "advertiser",
    "organization-owned",
    "organisation-owned",
    "ad account",
    "campaign",
)
DOMAIN = re.compile(
    "|".join(re.escape(word).replace(r"\ ", "[ _-]") for word in DOMAIN_WORDS), re.IGNORECASE
)


def domain_words(text: str) -> list[str]:
    """The domain words in `text`, as written there."""
    return [match.group(0) for match in DOMAIN.finditer(text)]


def scanned_files(tops: tuple[Path, ...] = SCANNED) -> Iterator[Path]:
    for top in tops:
        for path in sorted(top.rglob("*")):
            generated = "__pycache__" in path.parts or path.parent.name.endswith(".egg-info")
            if path.is_file() and not generated:  # egg-info: pip's copy of the README
                yield path


def findings(tops: tuple[Path, ...] = SCANNED) -> list[str]:
    """`file:line: words` for every line of a text file under `tops` with a domain word."""
    found = []
    for top in tops:
        found += _findings_under(top)
    return found


def _findings_under(top: Path) -> list[str]:
    found = []
    for path in scanned_files((top,)):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (an image): no prose in it
        for number, line in enumerate(text.splitlines(), 1):
            words = domain_words(line)
            if words:
                where = path.relative_to(top.parent).as_posix()
                found.append(f"{where}:{number}: {', '.join(words)}")
    return found


def test_no_file_of_the_engine_or_the_schemas_speaks_a_domain() -> None:
    found = findings()
    assert not found, "domain words in the engine:\n" + "\n".join(found)


def test_the_scan_fails_on_a_file_with_a_domain_word(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "clean.py").write_text('"""Documents and reviewers."""\n')
    (tmp_path / "pkg" / "leaky.py").write_text('"""Generic."""\n# opens Ads Manager\n')
    (tmp_path / "pkg" / "image.png").write_bytes(b"\x89PNG\xff\xfe")
    assert findings((tmp_path / "pkg",)) == ["pkg/leaky.py:2: Ads Manager"]


def test_the_scan_covers_the_engine_and_the_schemas() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in scanned_files()}
    assert "engine/linkflow/runtime/paths.py" in names
    assert "schemas/workflow.schema.json" in names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("link a TikTok account", ["TikTok"]),
        ("TIKTOK_ACCOUNTS", ["TIKTOK"]),
        ("create Spark Ads", ["Spark Ad"]),
        ("admin of the Business Center", ["Business Center"]),
        ("in Ads Manager", ["Ads Manager"]),
        ("a Smart+ campaign", ["Smart+", "campaign"]),
        ("the advertiser's", ["advertiser"]),
        ("an Organization-owned account", ["Organization-owned"]),
        ("world.ad_accounts[*]", ["ad_account"]),
        ("documents move from draft to published", []),
        ("smartphones and ads are fine alone", []),
    ],
)
def test_the_check_finds_domain_words_and_nothing_else(text: str, expected: list[str]) -> None:
    assert domain_words(text) == expected
