"""`linkflow serve`: the engine as an HTTP service (Starlette on uvicorn)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_workflow_paths

#: A browser's Origin: scheme, host (a name, IPv4 or [IPv6]) and an optional port.
ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="serve the workflows over HTTP: start instances, send events, follow the feed",
        description="Serve the workflows as a JSON API (documented at /openapi.json). Listens "
        "on 127.0.0.1 unless told otherwise; any other address requires a bearer token "
        "(--token-file, or the LINKFLOW_TOKEN environment variable). SIGTERM stops it "
        "gracefully: requests in flight finish first.",
    )
    add_workflow_paths(parser)
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///path.db or postgresql://... (default: LINKFLOW_STORE, else "
        ".linkflow/linkflow.db)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="processes (default: 1)"
    )
    parser.add_argument(
        "--token-file", metavar="FILE", help="file holding the bearer token clients must send"
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time a request has for its headers, then again for its body, before the answer "
        "is 408 (default: 10)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=512,
        metavar="N",
        help="connections open at once, per process; one more is answered 503 with "
        "Retry-After while those open are served on (default: 512)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="URL",
        help="an origin (scheme://host[:port]) whose pages may call the API from a browser; "
        "repeat for more (default: none)",
    )
    parser.add_argument(
        "--no-effects",
        action="store_true",
        help="do not perform the outbox's effects in this process (run `linkflow worker` "
        "processes instead)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="one line per request, as text or JSON (default: text)",
    )
    return parser


def _fail(message: str, code: int) -> int:
    print(f"linkflow serve: error: {message}", file=sys.stderr)
    return code


def _option_problem(args: argparse.Namespace) -> str:
    """Why the listening options cannot be used, or ''."""
    if not 0 < args.port < 65536:
        return f"--port must be between 1 and 65535 (got {args.port})"
    if not 1 <= args.workers <= 64:
        return f"--workers must be between 1 and 64 (got {args.workers})"
    if not 0 < args.read_timeout <= 3600:
        return "--read-timeout must be more than 0 and at most 3600 seconds"
    if not 1 <= args.max_connections <= 100_000:
        return f"--max-connections must be between 1 and 100000 (got {args.max_connections})"
    if any(not ORIGIN.fullmatch(origin) for origin in args.cors_origin):
        return (
            "--cors-origin takes an origin: http:// or https://, a host and an optional "
            "port, no path (e.g. https://app.example.com)"
        )
    return ""


def _token_or_problem(args: argparse.Namespace) -> tuple[str | None, str]:
    """The bearer token (None: none given), and why the options cannot be used, or ''."""
    from linkflow.service.access import TOKEN_ENV, TokenError, is_loopback, read_token

    problem = _option_problem(args)
    if problem:
        return None, problem
    try:
        token = read_token(args.token_file)
    except TokenError as err:
        return None, str(err)
    if token is None and not is_loopback(args.host):
        return None, (
            f"listening on {args.host} needs a bearer token: pass --token-file FILE or set "
            f"{TOKEN_ENV} (or listen on 127.0.0.1)"
        )
    return token, ""


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.service.app import WorkflowLoadError, load_catalog
    from linkflow.service.config import ServiceConfig
    from linkflow.service.server import serve

    token, problem = _token_or_problem(args)
    if problem:
        return _fail(problem, EXIT_USAGE)
    config = ServiceConfig(
        workflow_paths=tuple(args.paths or ["workflows"]),
        store_url=args.store,
        host=args.host,
        port=args.port,
        workers=args.workers,
        token_file=args.token_file,
        log_format=args.log_format,
        read_timeout=args.read_timeout,
        max_connections=args.max_connections,
        cors_origins=tuple(dict.fromkeys(args.cors_origin)),
        effects=not args.no_effects,
    )
    try:
        catalog = load_catalog(config.workflow_paths)  # fail in words before binding the port
    except WorkflowLoadError as err:
        return _fail(f"the workflows do not load:\n{err}", EXIT_PROBLEMS)
    from linkflow.errors import DefinitionError, UsageError
    from linkflow.service.app import open_store
    from linkflow.store import StoreError

    try:
        store = open_store(config, catalog)  # an unreachable store is said now, in words
    except (StoreError, DefinitionError) as err:
        return _fail(str(err), EXIT_PROBLEMS)
    except UsageError as err:
        return _fail(str(err), EXIT_USAGE)
    serve(config, token, catalog.workflows, store)
    return EXIT_OK
