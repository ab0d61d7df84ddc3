"""What every command shares about talking to the user (with `add_format` next door): JSON on
stdout, messages on stderr, colour only in a terminal, and a did-you-mean for a mistyped word.

Kept dependency-free (stdlib only) so that importing it never slows `linkflow --help`.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO

#: ANSI colours by what the text means, not by how it looks.
_COLOURS = {
    "problem": "31",  # red
    "fail": "31",
    "refused": "33",  # yellow
    "warning": "33",
    "pass": "32",  # green
    "ok": "32",
}


def colour_on(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, meaning: str, stream: TextIO) -> str:
    """`text` coloured for what it means when `stream` is a terminal; as is otherwise."""
    code = _COLOURS.get(meaning)
    if code is None or not colour_on(stream):
        return text
    return f"\033[{code}m{text}\033[0m"


def say(text: str, meaning: str = "", stream: TextIO | None = None) -> None:
    """A message for a person: stderr unless told otherwise, coloured by meaning."""
    target = sys.stderr if stream is None else stream
    print(paint(text, meaning, target) if meaning else text, file=target)


def error(command: str, message: str) -> None:
    """The one way a command states a usage error."""
    say(f"{' '.join(['linkflow', command]).strip()}: error: {message}", "problem")


def deliver(command: str, text: str, path: str | None, out: TextIO) -> bool:
    """Write `text` to the file `path` (saying so) or, without one, to `out` (stdout).

    False, with the reason stated as a usage error, when the file cannot be written: a command
    that makes a document answers a bad `-o` with a sentence, never a traceback.
    """
    if not path:
        out.write(text)
        return True
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as err:
        error(command, f"cannot write {path}: {err.strerror or err}")
        return False
    say(f"wrote {path}")
    return True


def emit_json(report: Any, out: TextIO) -> None:
    """A report for programs: indented JSON, one document, on `out` (stdout)."""
    print(json.dumps(report, indent=2, default=str), file=out)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
