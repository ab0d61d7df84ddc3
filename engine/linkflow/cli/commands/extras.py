"""Optional parts of linkflow come as extras; a command that needs a missing one says which to
install and exits 2 (a usage error: the fix is an install, not a change to the workflows).

The core install has no server and no database driver, so `linkflow serve` without
`linkflow[service]`, or a `postgresql://` store without `linkflow[postgres]`, must answer in
words rather than with an ImportError's traceback.
"""

from __future__ import annotations

import importlib.util

#: Top-level module -> the extra that installs it.
EXTRA_OF = {
    "starlette": "service",
    "uvicorn": "service",
    "watchfiles": "studio",
    "httpx": "service",
    "standardwebhooks": "service",
    "psycopg": "postgres",
    "psycopg_pool": "postgres",
}

#: What a command cannot start without, checked before it loads anything else.
NEEDED_BY = {
    "serve": ("starlette", "uvicorn"),
    "studio": ("starlette", "uvicorn", "watchfiles"),
    "webhooks": ("httpx", "standardwebhooks"),
    "worker": ("httpx", "starlette"),
}


def install_hint(command: str, module: str) -> str | None:
    """The message for `command` missing `module`, or None when no extra provides it."""
    top = module.split(".", maxsplit=1)[0]
    extra = EXTRA_OF.get(top)
    if extra is None:
        return None
    if command == "studio" and extra == "service":
        extra = "studio"  # the studio's extra brings the service's along
    what = "a postgresql:// store" if extra == "postgres" else f"'linkflow {command}'"
    return (
        f"{what} needs the '{extra}' extra ({top} is not installed): "
        f"pip install 'linkflow[{extra}]'"
    )


def missing_for(command: str) -> str | None:
    """The install hint for the first module `command` needs and cannot import, or None."""
    for module in NEEDED_BY.get(command, ()):
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            return install_hint(command, module)
    return None
