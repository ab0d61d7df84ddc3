"""The engine's dependencies point one way, and no module imports itself through others.

Layers, highest first. A module may import from its own layer and the layers below it, never
from a layer above: the command line composes everything, the language knows nothing of the
rest. Every import counts, including those inside functions and under `TYPE_CHECKING`, because
an upward import is a design dependency even when it is lazy.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine" / "linkflow"

#: Highest first. The facade is the package root (the public API, `linkflow.__all__`), the
#: one way in from Python (`linkflow.open`, in `project`) and `python -m linkflow`; `base` is
#: the two small shared modules.
LAYERS = [
    "facade",
    "cli",
    "service",
    "studio",
    "output",
    "analysis",
    "testing",
    "store",
    "runtime",
    "language",
    "base",
]
FACADE_MODULES = {"linkflow", "linkflow.__main__", "linkflow.project"}
BASE_MODULES = {"linkflow.errors", "linkflow.source"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in FACADE_MODULES:
        return "facade"
    if module in BASE_MODULES:
        return "base"
    package = module.split(".")[1]
    if package not in LAYERS:
        raise AssertionError(f"{module} is in no layer: put it in a subpackage of engine/")
    return package


def imports_of(source: str, module: str) -> set[str]:
    """Every engine module `source` imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "linkflow")
        elif isinstance(node, ast.ImportFrom) and node.module:
            target = node.module
            if node.level:  # relative import: resolve against this module's package
                package = module.split(".")[: -node.level]
                target = ".".join([*package, node.module])
            if target.split(".")[0] == "linkflow":
                found.add(target)
    return found


def import_graph(files: Mapping[str, str]) -> nx.DiGraph:
    """Module -> imported module, for the given {module name: source}."""
    graph = nx.DiGraph()
    for module, source in files.items():
        graph.add_node(module)
        for target in imports_of(source, module):
            if target != module:
                graph.add_edge(module, target)
    return graph


def upward_imports(graph: nx.DiGraph) -> list[str]:
    rank = {name: index for index, name in enumerate(LAYERS)}
    wrong = []
    for module, target in sorted(graph.edges):
        lower, upper = layer_of(target), layer_of(module)
        if rank[lower] < rank[upper]:
            wrong.append(f"{module} ({upper}) imports {target} ({lower}), a higher layer")
    return wrong


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def engine_sources(extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    files = {module_name(p): p.read_text(encoding="utf-8") for p in ENGINE.rglob("*.py")}
    files.update(extra)
    return files


def test_every_module_sits_in_a_layer() -> None:
    for module in engine_sources():
        layer_of(module)  # raises for a module outside the subpackages


def test_no_import_points_upward() -> None:
    assert upward_imports(import_graph(engine_sources())) == []


def test_no_import_circles() -> None:
    assert cycles(import_graph(engine_sources())) == []


def test_an_upward_import_is_caught() -> None:
    """The check itself can fail: a language module that reaches into the runtime."""
    bad = (
        "linkflow.language.sneaky",
        "def f():\n    from linkflow.runtime.machine import Engine\n",
    )
    expected = "linkflow.language.sneaky (language) imports linkflow.runtime.machine (runtime)"
    assert upward_imports(import_graph(engine_sources([bad]))) == [f"{expected}, a higher layer"]


def test_a_circle_is_caught() -> None:
    pair = [
        ("linkflow.output.a", "from linkflow.output.b import x\n"),
        ("linkflow.output.b", "def g():\n    from linkflow.output.a import y\n"),
    ]
    graph = import_graph(engine_sources(pair))
    assert ["linkflow.output.a", "linkflow.output.b"] in cycles(graph)


def test_a_module_outside_the_layers_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"linkflow\.helpers is in no layer"):
        layer_of("linkflow.helpers")


#: The public API, exactly: adding or dropping a name is a decision, not a side effect.
PUBLIC_API = [
    "EventOption",
    "HistoryEntry",
    "LinkflowError",
    "LoadError",
    "Problem",
    "Project",
    "Refusal",
    "RefusalKind",
    "Run",
    "ScenarioResult",
    "SourceLocation",
    "Step",
    "Workflow",
    "World",
    "load",
    "open",
    "run_scenario_file",
]


def test_the_public_api_is_importable_and_lazy() -> None:
    """`linkflow.__all__` is the public API, each name resolves (so do the internal names kept
    importable for older code), and `import linkflow` loads no layer below it."""
    import subprocess
    import sys

    import linkflow

    assert sorted(linkflow.__all__) == PUBLIC_API
    assert set(linkflow.__all__) <= set(linkflow._WHERE)
    for name in linkflow._WHERE:
        assert getattr(linkflow, name).__name__ == name
    probe = (
        "import linkflow, sys; print(sorted(m for m in sys.modules if m.startswith('linkflow.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
