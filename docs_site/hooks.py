"""MkDocs hook for linkflow's docs site (mkdocs.yml `hooks:`).

The pages link to files beside docs/: the committed diagrams, the workflows, the examples. Those
links work in a checkout and on a code host as they are; on the site, each linked file is copied
under `repo/` and the link points at the copy. A link to a file that does not exist is left
alone, so `mkdocs build --strict` still fails on it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

#: A Markdown link or image target, or an HTML src/href, up to a fragment or a title.
_LINK = re.compile(r"\]\(\s*<?([^)\s>#]+)[^)]*\)|(?:src|href)=\"([^\"#]+)")


def _outside_targets(page: File, docs: Path, root: Path) -> set[str]:
    """Relative targets of one page that leave docs/ and name a file of the checkout."""
    text = Path(page.abs_src_path or "").read_text(encoding="utf-8")
    found = set()
    for match in _LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            continue
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page.src_uri), target))
        if not path.startswith("../"):
            continue
        real = (docs / path).resolve()
        if real.is_file() and root in real.parents:
            found.add(path)
    return found


def on_files(files: Files, config: Any) -> Files:
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    wanted: set[str] = set()
    for page in files.documentation_pages():
        wanted |= _outside_targets(page, docs, root)
    for path in sorted(wanted):
        copy = (docs / path).resolve().relative_to(root).as_posix()
        files.append(
            File(
                path,
                str(docs),
                config["site_dir"],
                config["use_directory_urls"],
                dest_uri=f"repo/{copy}",
                # a Markdown file becomes a page of the site, outside the navigation
                inclusion=InclusionLevel.NOT_IN_NAV
                if path.endswith(".md")
                else InclusionLevel.INCLUDED,
            )
        )
    return files
