"""`linkflow schema`: print a JSON schema, or the path of the installed copy, for editors."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, add_format

KINDS = ("workflow", "world", "world_schema", "scenario", "services")


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "schema",
        help="print the JSON schema of workflows, worlds, world schemas, scenarios or services "
        "(or its path)",
        description="Print the JSON schema of a kind of file, for editors and other tools "
        "(yaml-language-server, check-jsonschema). With --path, print where the installed "
        "copy is instead.",
    )
    parser.add_argument("kind", choices=KINDS, help="which schema")
    parser.add_argument(
        "--path", action="store_true", help="print the file's path, not its content"
    )
    add_format(parser)
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.console import emit_json
    from linkflow.language.schema_files import schemas_dir

    path = (schemas_dir() / f"{args.kind}.schema.json").resolve()
    if args.format == "json":
        if args.path:
            emit_json({"kind": args.kind, "path": str(path)}, out)
        else:
            out.write(path.read_text(encoding="utf-8"))
        return EXIT_OK
    print(str(path) if args.path else path.read_text(encoding="utf-8").rstrip("\n"), file=out)
    return EXIT_OK
