"""`linkflow studio`: a local web page to click through workflows (linkflow.studio)."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_workflow_paths

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _stopped(sig: int, frame: object) -> None:
    """The handler uvicorn's re-raised stop signal finds: the server has already stopped."""


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "studio",
        help="open a local web page to click through workflows, save scenarios, see coverage",
        description="Serve the studio on 127.0.0.1: the workflow's diagram with the path taken, "
        "the events with why each is refused, a payload form, the world records, 'let time "
        "pass', saving the session as a scenario, and the coverage of a scenario folder. The "
        "page reloads the workflows when their files change. Each launch prints a URL with a "
        "new token (like Jupyter); the first visit exchanges it for a cookie, and only a "
        "browser holding that cookie can use the studio, so other web pages cannot.",
    )
    add_workflow_paths(parser)
    parser.add_argument("--world", metavar="FILE", help="a world file the workflows act on")
    parser.add_argument(
        "--data", metavar="FILE|JSON", help="start data: a JSON or YAML file, or inline JSON"
    )
    parser.add_argument(
        "--start",
        metavar="WORKFLOW",
        help="the workflow to start (default: the first one nothing hands off to)",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="also show the instances of this store (sqlite:///path.db or postgresql://...)",
    )
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default: 8765)")
    parser.add_argument(
        "--scenarios",
        default="tests/scenarios/studio",
        metavar="DIR",
        help="where 'Save as scenario' writes (default: tests/scenarios/studio)",
    )
    parser.add_argument(
        "--coverage",
        default="tests/scenarios",
        metavar="DIR",
        help="the scenario folder the coverage view opens with (default: tests/scenarios)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (by default only 127.0.0.1, localhost "
        "and [::1]: a page on another name pointing at this machine is refused)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log every request (method and path, no body)"
    )
    return parser


def _instances(store_url: str | None) -> tuple[Any, int]:
    """The view of the instances in `--store` (None without one), and EXIT_OK; or None and
    the exit code after saying why the store does not open."""
    if not store_url:
        return None, EXIT_OK
    from linkflow.errors import UsageError
    from linkflow.store import Store, StoreError
    from linkflow.studio.instances import InstancesView

    try:
        store = Store.open(store_url)
    except UsageError as err:
        print(f"linkflow studio: error: {err}", file=sys.stderr)
        return None, EXIT_USAGE
    except StoreError as err:
        print(f"linkflow studio: error: {err}", file=sys.stderr)
        return None, EXIT_PROBLEMS
    return InstancesView(store), EXIT_OK


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.run import load_data

    if not 0 <= args.port <= 65535:
        print("linkflow studio: error: --port must be between 0 and 65535", file=sys.stderr)
        return EXIT_USAGE
    data, problem = load_data(args.data)
    if data is None:
        print(f"linkflow studio: error: {problem}", file=sys.stderr)
        return EXIT_USAGE

    import uvicorn

    from linkflow.studio.app import create_app
    from linkflow.studio.guard import Access
    from linkflow.studio.playground import Playground, PlaygroundError

    try:
        playground = Playground(args.paths or ["workflows"], args.world, data, args.start)
    except PlaygroundError as err:
        print(f"linkflow studio: error: {err}", file=sys.stderr)
        return EXIT_PROBLEMS
    instances, code = _instances(args.store)
    if code != EXIT_OK:
        return code
    access = Access(allowed_hosts=tuple(args.allow_host))
    app = create_app(
        playground,
        scenario_folder=args.scenarios,
        coverage_folder=args.coverage,
        instances=instances,
        access=access,
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="info" if args.verbose else "warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    url = access.url(f"http://127.0.0.1:{args.port}/")
    print(f"linkflow studio: {url} (Ctrl-C to stop)", file=out, flush=True)
    # uvicorn re-raises the stop signal once it has shut down, to end the process the default
    # way (killed by SIGTERM, KeyboardInterrupt for SIGINT); a studio stopped on purpose has
    # stopped cleanly, so it exits 0 instead
    quiet = {number: signal.signal(number, _stopped) for number in STOP_SIGNALS}
    try:
        server.run()
    except OSError as err:  # pragma: no cover - e.g. the port is taken
        print(f"linkflow studio: error: {err}", file=sys.stderr)
        return EXIT_PROBLEMS
    finally:
        for number, handler in quiet.items():
            signal.signal(number, handler)
        if instances is not None:
            instances.store.close()
    return EXIT_OK if server.started else EXIT_PROBLEMS
