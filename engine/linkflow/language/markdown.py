"""Workflow text made inert in Markdown: the one escaping function every Markdown output uses
(the docs pages, `explore --format markdown`), so a title or description can never become
HTML, a link, a heading or a table cell boundary.

It lives in the language layer, below both `analysis` and `output`, which both write Markdown.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Characters that can start Markdown structure anywhere in a line: emphasis, code, links,
#: tables, strikethrough. `_` only at a word's edge, since GitHub ignores it inside words.
_MARKDOWN = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
#: What makes a line a heading, list item, quote or rule when it starts with it.
_LINE_START = re.compile(r"^([-+#>=]|\d+(?=[.)]))")
#: What GitHub turns into a link without any markup: `https://`, `www.`, an e-mail's `@`.
#: A zero-width space (as an entity) after the scheme or before the `@` breaks the pattern
#: and reads the same.
_AUTOLINK = re.compile(r"(?i)(\b(?:https?|ftp|mailto|file):|\bwww\.|@)")
_BREAK = "&#8203;"


def md(text: str) -> str:
    """Workflow text as inert Markdown on one line: markup characters are escaped."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MARKDOWN.sub(r"\\\1", flat)
    flat = _AUTOLINK.sub(lambda m: _unlink(m.group(1)), flat)
    found = _LINE_START.match(flat)
    if found:
        end = found.end()
        flat = flat[:end] + "\\" + flat[end:] if found.group(1)[0].isdigit() else "\\" + flat
    return flat


def _unlink(found: str) -> str:
    if found == "@":
        return _BREAK + found
    return found[:-1] + _BREAK + found[-1]


def code(text: str, table: bool = False) -> str:
    """Text in a code span; backticks inside are replaced, since they would end it. In a
    table cell `|` is escaped too (GitHub splits cells on it even inside code)."""
    flat = " ".join(_CONTROL.sub(" ", text).split()).replace("`", "'")
    if table:
        flat = flat.replace("|", "\\|")
    return f"`{flat}`"
