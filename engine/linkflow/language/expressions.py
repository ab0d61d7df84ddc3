"""CEL expressions and message templates, compiled once when a workflow loads.

CEL (Common Expression Language) is small, side-effect free and not Turing complete, so a
workflow file can never run arbitrary code. We use the Rust-backed `common-expression-language`
package; its `cel/__init__.py` also imports an interactive shell (typer, rich, prompt_toolkit:
about 0.2 s), so we load only its compiled extension module.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from linkflow.language.cel_subset import Native, Unsure, compile_subset, convertible


class ExpressionError(Exception):
    """An expression failed to compile or to evaluate; the message is for people.

    `safe` says the same without any value the expression was given (the library's own text
    may quote one): what a message shows when the input holds a secret.
    """

    def __init__(self, message: str, safe: str = "") -> None:
        super().__init__(message)
        self.safe = safe or message


@cache
def _cel() -> Any:
    """The compiled CEL extension module, without the package's interactive shell."""
    spec = importlib.util.find_spec("cel")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                candidate = f"{folder}/cel{suffix}"
                try:
                    loader = importlib.machinery.ExtensionFileLoader("cel.cel", candidate)
                    ext_spec = importlib.util.spec_from_file_location(
                        "cel.cel", candidate, loader=loader
                    )
                    if ext_spec is None:
                        continue
                    module = importlib.util.module_from_spec(ext_spec)
                    loader.exec_module(module)
                    return module
                except (ImportError, OSError):
                    continue
    import cel  # noqa: PLC0415 - cel: the fallback when its extension cannot be loaded directly (above)

    return cel


#: Bounds checked before the expression library sees a text. Its parser recurses: a very long
#: chain (`1 + 1 + ...`, `a.y.y...`) crashes the whole process instead of raising, and nested
#: comprehensions multiply their cost by each list's length. The project's longest expression
#: is about 120 characters with a dozen operations; these leave ample room.
MAX_EXPRESSION_CHARS = 1000
MAX_OPERATIONS = 100
MAX_NESTING = 16
MAX_COMPREHENSION_NESTING = 1
#: The library's `map` and `filter` copy their growing result at every item, so their cost
#: grows with the square of what they return (`list.map(x, list)` on 100 items: 0.3 s).
#: Guards need yes or no: `all`, `exists` and `exists_one` say it at a cost linear in the list.
_COPYING_MACROS = re.compile(r"\.\s*(map|filter)\s*\(")
_OPERATION = re.compile(r"&&|\|\||[=!<>]=|[-+*/%<>?!.\[]|\bin\b")
_OPENING = {"(": ")", "[": "]", "{": "}"}


def bound_problem(source: str, *, builds_lists: bool = False) -> str:
    """Why an expression is too big or too deep to hand to the library, or ''.

    `builds_lists` allows `map` and `filter`: for expressions that must return a list (an
    event's offered choices) and are worked out before any payload exists, so no sender
    chooses the length of what they copy; only the world's own lists reach them.
    """
    if len(source) > MAX_EXPRESSION_CHARS:
        return (
            f"the expression is {len(source)} characters long; at most "
            f"{MAX_EXPRESSION_CHARS} are allowed (split it into several guards)"
        )
    text = _QUOTED.sub("''", source)
    operations = len(_OPERATION.findall(text))
    if operations > MAX_OPERATIONS:
        return (
            f"the expression has {operations} operations; at most {MAX_OPERATIONS} are allowed "
            "(split it into several guards)"
        )
    copying = None if builds_lists else _COPYING_MACROS.search(text)
    if copying:
        return (
            f"`{copying.group(1)}` is not available: its cost grows with the square of the "
            "list; use all, exists or exists_one"
        )
    comprehension_opens = {m.end() - 1 for m in _COMPREHENSION.finditer(text)}
    stack: list[bool] = []
    for index, char in enumerate(text):
        if char in _OPENING:
            stack.append(index in comprehension_opens)
            if len(stack) > MAX_NESTING:
                return f"the expression nests brackets more than {MAX_NESTING} deep"
            if sum(stack) > MAX_COMPREHENSION_NESTING:
                return (
                    "the expression puts a list macro (all, exists, exists_one) inside another: "
                    "each level multiplies the cost by the length of a list"
                )
        elif char in ")]}" and stack:
            stack.pop()
    return ""


_SYNTAX = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*?)\n", re.S)


def _compile_message(err: Exception) -> str:
    text = str(err)
    found = _SYNTAX.search(text + "\n")
    if found:
        detail = _plain_syntax(found.group(3).strip())
        return f"{detail} (at character {found.group(2)} of the expression)"
    return text.split("\n", 1)[0]


#: The parser's wording, and the plain words shown instead (its token lists help nobody).
_PARSER_WORDS = (
    (re.compile(r"mismatched input '<EOF>'.*"), "the expression ends too early"),
    (re.compile(r"(?:mismatched|extraneous) input ('.*?') expecting.*"), r"unexpected \1"),
    (re.compile(r"no viable alternative at input ('.*?')$"), r"unexpected \1"),
    (re.compile(r"token recognition error at: '(['\"]).*"), r"a \1 quote is not closed"),
    (re.compile(r"token recognition error at: ('.*')$"), r"cannot read \1"),
    (re.compile(r"Incomplete `ExprContext` for `_\?_:_`.*"), "`a ? b : c` needs both b and c"),
)


def _plain_syntax(detail: str) -> str:
    body = detail.removeprefix("Syntax error: ")
    for pattern, words in _PARSER_WORDS:
        if pattern.match(body):
            return "syntax error: " + pattern.sub(words, body, count=1)
    return detail


#: A lone `=` (not part of `==`, `!=`, `<=`, `>=`), and the words other languages use for
#: CEL's `&&`, `||` and `!`: what people coming from SQL or Python write first.
_LONE_EQUALS = re.compile(r"(?<![=!<>])=(?!=)")
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!"}
_WORD_OPERATOR = re.compile(r"(?<![\w.])(and|or|not)(?![\w(])")


def syntax_hint(source: str) -> str:
    """A hint for an expression that does not compile, when it uses another language's
    operators: `=` for `==`, `and`/`or`/`not` for `&&`/`||`/`!` (quoted text is not looked at)."""
    text = _QUOTED.sub("''", source)
    hints = []
    if _LONE_EQUALS.search(text):
        hints.append("compare with `==`, not `=`")
    words = dict.fromkeys(_WORD_OPERATOR.findall(text))
    if words:
        hints.append("CEL writes " + ", ".join(f"`{_WORD_OPERATORS[w]}` for `{w}`" for w in words))
    return f" (hint: {'; '.join(hints)})" if hints else ""


_PATH = re.compile(r"^\s*([A-Za-z_]\w*)((?:\s*\.\s*[A-Za-z_]\w*)*)\s*$")
_STRING = re.compile(r"""^\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*$""")
_KEYWORDS = {"true": True, "false": False, "null": None}


def _shortcut(source: str) -> tuple[Any, bool] | None:
    """A plain field path or a literal, which need no CEL evaluation at all.

    Most binding keys, action values and message placeholders are `data.field` or `'text'`.
    Handing them to CEL would cost a conversion of every input (microseconds each); a dict
    lookup gives the same value. Returns (steps or constant, is_constant), or None.
    """
    text = source.strip()
    if text in _KEYWORDS:
        return _KEYWORDS[text], True
    literal = _STRING.match(text)
    if literal:
        return (literal.group(1) if literal.group(1) is not None else literal.group(2)), True
    path = _PATH.match(text)
    if path is None or path.group(1) in _KEYWORDS:
        return None
    steps = tuple(part.strip() for part in path.group(2).split(".")[1:])
    return (path.group(1), *steps), False


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_COMPREHENSION = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(")
_MACRO_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


def _fields_read(
    source: str, names: frozenset[str]
) -> tuple[tuple[str, frozenset[str] | None], ...]:
    """For each name, the fields the expression reads from it, or None when it uses it whole.

    CEL converts every value it is given, field by field: handing it `team` with all its lists to
    read `team.admins` costs several times the evaluation. A name used only as `name.field` (or
    compared with null) can be given as just those fields; any other use gets the whole value.
    """
    text = _QUOTED.sub("''", source)
    shadowed = set(_MACRO_BOUND.findall(text))
    plan: list[tuple[str, frozenset[str] | None]] = []
    for name in sorted(names):
        fields: set[str] | None = set()
        if name in shadowed:
            fields = None
        for found in re.finditer(rf"(?<![\w.]){re.escape(name)}\b", text):
            if fields is None:
                break
            after = text[found.end() :]
            field_use = re.match(r"\s*\.\s*([A-Za-z_]\w*)", after)
            if field_use:
                fields.add(field_use.group(1))
                continue
            before = text[: found.start()]
            if re.match(r"\s*[!=]=\s*null\b", after) or re.search(r"\bnull\s*[!=]=\s*$", before):
                continue
            fields = None
        plan.append((name, None if fields is None else frozenset(fields)))
    return tuple(plan)


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL expression and the top-level names it reads."""

    source: str
    program: Any = field(repr=False, compare=False)
    names: frozenset[str]
    #: For a plain path: its steps; for a literal: its value (see `_shortcut`).
    shortcut: Any = field(default=None, repr=False, compare=False)
    constant: bool = field(default=False, repr=False, compare=False)
    #: What CEL is given: each name, whole (None) or only the fields read (see `_fields_read`).
    inputs: tuple[tuple[str, frozenset[str] | None], ...] = field(
        default=(), repr=False, compare=False
    )
    #: The expression evaluated in Python where CEL's answer is plain (see
    #: linkflow.language.cel_subset), or None: CEL evaluates it every time.
    native: Native | None = field(default=None, repr=False, compare=False)

    @classmethod
    def compile(cls, source: str, *, builds_lists: bool = False) -> Expression:
        too_big = bound_problem(source, builds_lists=builds_lists)
        if too_big:
            raise ExpressionError(too_big)
        try:
            program = _cel().compile(source)
        except (ValueError, RuntimeError) as err:
            raise ExpressionError(_compile_message(err) + syntax_hint(source)) from None
        names = frozenset(program.variables())
        found = _shortcut(source)
        if found is None:
            return cls(
                source,
                program,
                names,
                inputs=_fields_read(source, names),
                native=compile_subset(source),
            )
        return cls(source, program, names, found[0], found[1])

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        if self.constant:
            return self.shortcut
        path = self.shortcut
        if path is not None:
            if len(path) == 2:  # `name.field`, the common path: found without a loop
                value = activation.get(path[0])
                if type(value) is dict and path[1] in value:
                    return value[path[1]]
            return self._follow(activation)  # the rest, and the errors, worded as CEL's
        native = self.native
        if native is not None and _inputs_convertible(self.inputs, activation):
            try:
                return native(activation)
            except Unsure:
                pass  # CEL's answer is not plain here: CEL gives it, value or error
        # CEL converts every input it is given: give it only what it reads.
        inputs: dict[str, Any] = {}
        for name, fields in self.inputs or ((n, None) for n in self.names):
            if name not in activation:
                continue
            value = activation[name]
            if fields is not None and type(value) is dict:
                value = {f: value[f] for f in fields if f in value}
            inputs[name] = value
        try:
            return self.program.execute(inputs)
        except KeyError as err:
            raise ExpressionError(
                f"no field {err} in `{self.source}`", f"a field is missing in `{self.source}`"
            ) from None
        except Exception as err:  # the extension raises several plain types
            first = str(err).split("\n", 1)[0].split(". ", 1)[0]  # the rest is a tutorial
            raise ExpressionError(
                f"`{self.source}` failed: {first}", f"`{self.source}` could not be evaluated"
            ) from None

    def _follow(self, activation: Mapping[str, Any]) -> Any:
        """A plain path, with CEL's errors: an unknown name or a missing key fails."""
        path = self.shortcut
        root = path[0]
        if root not in activation:
            raise ExpressionError(f"`{self.source}` failed: Undefined variable or function")
        value = activation[root]
        for depth in range(1, len(path)):
            step = path[depth]
            if value is None:
                walked = ".".join(path[:depth])
                raise ExpressionError(f"`{self.source}` failed: '{walked}' is null")
            if not isinstance(value, dict) or step not in value:
                raise ExpressionError(f"no field '{step}' in `{self.source}`")
            value = value[step]
        return value


def _inputs_convertible(
    inputs: tuple[tuple[str, frozenset[str] | None], ...], activation: Mapping[str, Any]
) -> bool:
    """Whether CEL could convert what `evaluate` would give it (the fields read of each name):
    where it could not, its conversion error is the answer, so the subset does not answer."""
    for name, fields in inputs:
        if name not in activation:
            continue
        value = activation[name]
        if fields is not None and type(value) is dict:
            for name_read in fields:
                if name_read in value and not convertible(value[name_read]):
                    return False
        elif not convertible(value):
            return False
    return True


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A message with `{cel expression}` placeholders."""

    source: str
    parts: tuple[str | Expression, ...]

    @classmethod
    def compile(cls, source: str) -> Template:
        parts: list[str | Expression] = []
        last = 0
        for match in _PLACEHOLDER.finditer(source):
            parts.append(source[last : match.start()])
            parts.append(Expression.compile(match.group(1).strip()))
            last = match.end()
        parts.append(source[last:])
        return cls(source, tuple(p for p in parts if p != ""))

    @property
    def names(self) -> frozenset[str]:
        found: set[str] = set()
        for part in self.parts:
            if isinstance(part, Expression):
                found |= part.names
        return frozenset(found)

    def render(self, activation: Mapping[str, Any]) -> str:
        """The message; a placeholder that cannot be evaluated shows as `?`, never fails."""
        out: list[str] = []
        for part in self.parts:
            if not isinstance(part, Expression):
                out.append(part)
                continue
            try:
                value = part.evaluate(activation)
            except ExpressionError:
                value = "?"
            # Text, the common placeholder, shows as itself (what `_show` gives it).
            out.append(value if type(value) is str else _show(value))
        return "".join(out)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value)
    return str(value)


#: A value as messages and labels show it (lists joined, true/false, none).
show_value = _show
