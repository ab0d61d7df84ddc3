"""linkflow's dependencies point one way, and no module imports itself through others.

Each module sits in a layer (its subpackage), and `ALLOWED` says, edge by edge, which layers a
layer may import. An explicit table rather than one total order: `output`, `analysis` and
`testing` sit above the store in no sense, and a total order would let them reach into it.

Every import counts, including those inside functions and under `TYPE_CHECKING` (an upward
import is a design dependency even when it is lazy): `import a.b`, `from a import b`, relative
`from .. import b`, and modules named by string to `importlib.import_module` or listed in a
lazy table of module names. The benchmarks are covered too: they may use any of linkflow, and
no circle may run through them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
import pytest

import linkflow

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine" / "linkflow"
BENCHMARKS = ROOT / "benchmarks"

#: Who may import whom. A layer may always import itself.
ALLOWED: dict[str, frozenset[str]] = {
    "facade": frozenset(
        {"cli", "service", "studio", "output", "analysis", "testing", "store", "runtime"}
        | {"language", "base"}
    ),
    "cli": frozenset(
        {"service", "studio", "output", "analysis", "testing", "store", "runtime", "language"}
        | {"interop", "effects", "base"}
    ),
    "service": frozenset({"studio", "output", "effects", "store", "runtime", "language", "base"}),
    "studio": frozenset({"output", "analysis", "testing", "store", "runtime", "language", "base"}),
    "output": frozenset({"analysis", "testing", "runtime", "language", "base"}),
    #: Other statechart formats (XState, SCXML): the frozen model in, text out, and back.
    "interop": frozenset({"language", "base"}),
    "analysis": frozenset({"testing", "runtime", "language", "base"}),
    "testing": frozenset({"runtime", "language", "base"}),
    #: Effects in the outside world after a step committed (webhooks out): above the store.
    "effects": frozenset({"store", "runtime", "language", "base"}),
    "store": frozenset({"runtime", "language", "base"}),
    "runtime": frozenset({"language", "base"}),
    "language": frozenset({"base"}),
    "base": frozenset(),
}
#: The package root (the public API, `linkflow.__all__`), `python -m linkflow` and the facade.
FACADE_MODULES = {"linkflow", "linkflow.__main__", "linkflow.project"}
BASE_MODULES = {"linkflow.errors", "linkflow.source"}
#: Names of the import machinery whose first argument is a module name.
IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in FACADE_MODULES:
        return "facade"
    if module in BASE_MODULES:
        return "base"
    if module.split(".", maxsplit=1)[0] == "benchmarks":
        return "benchmarks"
    package = module.split(".")[1]
    if package not in ALLOWED:
        raise AssertionError(f"{module} is in no layer: put it in a subpackage of linkflow")
    return package


def _is_package(module: str, known: Iterable[str]) -> bool:
    return any(other.startswith(module + ".") for other in known)


def _absolute(module: str, node: ast.ImportFrom, known: set[str]) -> str:
    """The absolute name `from <node.module>` means inside `module`."""
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if not _is_package(module, known):
        package = package[:-1]  # a plain module's package is its parent
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(source: str, module: str, known: set[str], roots: tuple[str, ...]) -> set[str]:
    """Every module of `roots` that `source` imports, at any depth of the file."""
    found: set[str] = set()

    def add(name: str) -> None:
        if name.split(".", maxsplit=1)[0] in roots:
            found.add(name)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node, known)
            add(target)
            for alias in node.names:  # `from pkg import sub` imports the module pkg.sub
                if f"{target}.{alias.name}" in known:
                    add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in IMPORTERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    add(first.value)
                elif isinstance(first, ast.JoinedStr) and first.values:
                    head = first.values[0]  # f"pkg.commands.{name}": every module under pkg
                    if isinstance(head, ast.Constant) and isinstance(head.value, str):
                        prefix = head.value
                        found.update(k for k in known if k.startswith(prefix) and k != module)
        elif (
            isinstance(node, ast.Constant) and node.value in known and node.value != module
        ):  # a lazy table of module names
            add(str(node.value))
    return found


def import_graph(files: Mapping[str, str], roots: tuple[str, ...] = ("linkflow",)) -> nx.DiGraph:
    """Module -> imported module, for the given {module name: source}."""
    graph = nx.DiGraph()
    known = set(files)
    for module, source in files.items():
        graph.add_node(module)
        for target in imports_of(source, module, known, roots):
            if target != module and not module.startswith(target + "."):
                graph.add_edge(module, target)
    return graph


def forbidden_imports(graph: nx.DiGraph) -> list[str]:
    wrong = []
    for module, target in sorted(graph.edges):
        source_layer, target_layer = layer_of(module), layer_of(target)
        if source_layer in ("benchmarks", target_layer):
            continue
        if target_layer not in ALLOWED[source_layer]:
            wrong.append(f"{module} ({source_layer}) imports {target} ({target_layer})")
    return wrong


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def sources(root: Path, extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    files = {
        module_name(p, root.parent): p.read_text(encoding="utf-8")
        for p in root.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    files.update(extra)
    return files


def engine_sources(extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    return sources(ENGINE, extra)


def test_the_table_is_one_way_and_keeps_the_store_out_of_the_offline_layers() -> None:
    table = nx.DiGraph((a, b) for a, targets in ALLOWED.items() for b in targets)
    assert nx.is_directed_acyclic_graph(table)
    for layer in ("output", "analysis", "testing", "runtime", "language"):
        assert "store" not in ALLOWED[layer], layer


def test_every_module_sits_in_a_layer() -> None:
    for module in engine_sources():
        layer_of(module)  # raises for a module outside the subpackages


def test_every_import_is_an_allowed_edge() -> None:
    assert forbidden_imports(import_graph(engine_sources())) == []


def test_no_import_circles() -> None:
    assert cycles(import_graph(engine_sources())) == []


def test_the_benchmarks_have_no_import_circles() -> None:
    files = {**sources(BENCHMARKS), **engine_sources()}
    graph = import_graph(files, roots=("linkflow", "benchmarks"))
    assert any(m.startswith("benchmarks.") for m in graph.nodes)
    assert cycles(graph) == []


def test_an_upward_import_is_caught() -> None:
    """The check itself can fail: a language module that reaches into the runtime."""
    bad = ("linkflow.language.sneaky", "def f():\n    from linkflow.runtime import session\n")
    expected = [
        "linkflow.language.sneaky (language) imports linkflow.runtime (runtime)",
        "linkflow.language.sneaky (language) imports linkflow.runtime.session (runtime)",
    ]
    assert forbidden_imports(import_graph(engine_sources([bad]))) == expected


def test_a_sideways_import_into_the_store_is_caught() -> None:
    """Output sits above the store in no sense: drawing a diagram never opens a database."""
    bad = ("linkflow.output.sneaky", "from ..store import records\n")
    found = forbidden_imports(import_graph(engine_sources([bad])))
    assert "linkflow.output.sneaky (output) imports linkflow.store.records (store)" in found


def test_relative_and_importlib_imports_are_read() -> None:
    relative = ("linkflow.language.sneaky", "from .. import runtime\nfrom ..runtime import x\n")
    by_name = (
        "linkflow.runtime.sneaky",
        "import importlib\nimportlib.import_module('linkflow.store')\n",
    )
    table = ("linkflow.testing.sneaky", "WHERE = {'Store': 'linkflow.store.records'}\n")
    graph = import_graph(engine_sources([relative, by_name, table]))
    assert graph.has_edge("linkflow.language.sneaky", "linkflow.runtime")
    assert graph.has_edge("linkflow.runtime.sneaky", "linkflow.store")
    assert graph.has_edge("linkflow.testing.sneaky", "linkflow.store.records")


def test_a_circle_is_caught() -> None:
    pair = [
        ("linkflow.output.a", "from linkflow.output.b import x\n"),
        ("linkflow.output.b", "def g():\n    from . import a\n"),
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
    """`linkflow.__all__` is the public API and the only names the package offers, each name
    resolves, and `import linkflow` loads no layer below it."""
    assert sorted(linkflow.__all__) == PUBLIC_API
    assert sorted(linkflow._WHERE) == PUBLIC_API  # nothing internal is offered here
    for name in linkflow._WHERE:
        assert getattr(linkflow, name).__name__ == name
    probe = (
        "import linkflow, sys; print(sorted(m for m in sys.modules if m.startswith('linkflow.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def test_code_outside_the_package_imports_only_public_names_from_it() -> None:
    """`from linkflow import X` names only `linkflow.__all__` (mypy cannot see this: the
    package's lazy `__getattr__` answers any name), in tests, benchmarks and examples alike."""
    wrong = []
    for folder in ("tests", "benchmarks", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "linkflow":
                    wrong += [
                        f"{path.relative_to(ROOT)}:{node.lineno}: {alias.name}"
                        for alias in node.names
                        if alias.name not in PUBLIC_API
                    ]
    assert wrong == []


#: A module past this many lines holds more than one job: split it (issue 22's rooms).
MAX_MODULE_LINES = 600


def test_no_module_of_the_engine_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(ENGINE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
