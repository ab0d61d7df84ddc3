"""`linkflow init`: a new project that validates and passes its tests as created."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from linkflow.cli.commands import EXIT_OK, EXIT_PROBLEMS, add_format


def register(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        "init",
        help="start a new project: a workflow, a world, two scenarios, editor settings",
        description="Write a small, complete project into DIR (default: the current folder): "
        "a workflow, a world, two scenarios, a README and editor settings, with the JSON "
        "schemas the YAML files point at. It passes `linkflow validate` and `linkflow test` "
        "as created. Nothing is overwritten: when any of its files exists, nothing is written.",
    )
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the project folder")
    add_format(parser)
    return parser


def planned_files(root: Path) -> dict[Path, bytes]:
    """Every file `init` writes into `root`, with its content."""
    from linkflow.cli.project_template import SCHEMA_DIR, SCHEMAS, project_files
    from linkflow.language.schema_files import schemas_dir

    name = root.resolve().name or "project"
    files = {root / path: text.encode() for path, text in project_files(name).items()}
    for kind in SCHEMAS:
        file_name = f"{kind}.schema.json"
        files[root / SCHEMA_DIR / file_name] = (schemas_dir() / file_name).read_bytes()
    return files


def run(args: argparse.Namespace, out: TextIO) -> int:
    from linkflow.cli.commands.console import emit_json, error, say

    root = Path(args.dir)
    if root.exists() and not root.is_dir():
        error("init", f"{root} exists and is not a folder")
        return EXIT_PROBLEMS
    files = planned_files(root)
    existing = sorted(str(p) for p in files if p.exists() or p.is_symlink())
    if existing:
        error("init", "refusing to overwrite: " + ", ".join(existing))
        say("(nothing was written; choose an empty or new folder)")
        if args.format == "json":
            emit_json({"ok": False, "written": [], "existing": existing}, out)
        return EXIT_PROBLEMS
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    written = [str(p) for p in files]
    if args.format == "json":
        emit_json({"ok": True, "written": written, "existing": []}, out)
        return EXIT_OK
    for path_text in written:
        print(f"wrote {path_text}", file=out)
    where = "" if root == Path(".") else f"cd {root} && "
    say(f"ok: a new project in {root}; try: {where}linkflow validate && linkflow test", "ok", out)
    return EXIT_OK
