"""A small part of CEL evaluated in Python, for the common guard and action value: names,
fields, `==`, `in`, `&&`, `||`, `!`, `? :`, `has()`, `size()` of a list or map, `+` and `-` of
integers (and `+` of texts), and literals.

Why: the expression library converts every value it is given before it evaluates anything, and
a guard such as `bc != null && data.actor in bc.admins` spends about ten microseconds there,
more than the rest of a refused event. Evaluated here, the same guard is a few dict lookups.

How it stays CEL: this evaluator answers only where CEL's answer is plain, and says "not sure"
(`Unsure`) everywhere else: a missing name or field, a value of an unexpected type, an
integer CEL would hold differently, any operand pair whose CEL equality differs from Python's
(`true == 1`, `1 == 1.0`, lists and maps), a result that is a list or a map (CEL gives a
copy). The caller then asks CEL, so errors and their wording are always CEL's own. An
expression outside the subset (arithmetic, macros, methods, escapes in text) is not compiled
here at all. tests/test_cel_subset.py compares both on random values for every expression of
the shipped workflows, the examples and the benchmarks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: A compiled subset expression: the activation in, the value out, or `Unsure`.
Native = Callable[[Mapping[str, Any]], Any]

#: The integers CEL holds as int64: a larger one is converted differently (to a double).
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


class Unsure(Exception):
    """This evaluator cannot say what CEL would: CEL decides (its value, or its error)."""


_UNSURE = Unsure()

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'[^'\\\n]*'|"[^"\\\n]*")
    | (?P<num>\d+(?![\w.]))
    | (?P<name>[A-Za-z_]\w*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[-+<>!?:()\[\].,])
    )""",
    re.X,
)
_RESERVED = frozenset({"in", "true", "false", "null", "as", "break", "const", "continue",
                       "else", "for", "function", "if", "import", "let", "loop", "package",
                       "namespace", "return", "var", "void", "while"})  # fmt: skip


class _Unsupported(Exception):
    """The expression is outside the subset: CEL evaluates it every time."""


def compile_subset(source: str) -> Native | None:
    """The expression as a Python function, or None when it is outside the subset."""
    tokens: list[tuple[str, str]] = []
    at = 0
    text = source.rstrip()
    while at < len(text):
        found = _TOKEN.match(text, at)
        if found is None or found.end() == at:
            return None
        kind = found.lastgroup
        assert kind is not None
        tokens.append((kind, found.group(kind)))
        at = found.end()
    try:
        parser = _Parser(tokens)
        node = parser.expr()
        if parser.pos != len(tokens):
            return None
    except _Unsupported:
        return None
    return _top(node)


def _top(node: Native) -> Native:
    def run(act: Mapping[str, Any]) -> Any:
        value = node(act)
        kind = type(value)
        if kind is str or kind is bool or value is None:
            return value
        _plain(value)  # a list or a map (CEL gives a converted copy), an integer beyond int64
        return value

    return run


class _Parser:
    """Recursive descent over CEL's precedence: `? :`, `||`, `&&`, relations, `!`, members."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, text: str) -> bool:
        if self._peek() == text and self.tokens[self.pos][0] == "op":
            self.pos += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._take(text):
            raise _Unsupported

    def expr(self) -> Native:
        cond = self._or()
        if not self._take("?"):
            return cond
        then = self._or()
        self._expect(":")
        other = self.expr()
        return _conditional(cond, then, other)

    def _or(self) -> Native:
        node = self._and()
        while self._take("||"):
            node = _or(node, self._and())
        return node

    def _and(self) -> Native:
        node = self._relation()
        while self._take("&&"):
            node = _and(node, self._relation())
        return node

    def _relation(self) -> Native:
        node = self._additive()
        while True:
            word = self._peek()
            if word in _RELATIONS and self.tokens[self.pos][0] == "op":
                self.pos += 1
                node = _RELATIONS[word](node, self._additive())
            elif word == "in" and self.tokens[self.pos][0] == "name":
                self.pos += 1
                node = _in(node, self._additive())
            else:
                return node

    def _additive(self) -> Native:
        node = self._unary()
        while True:
            if self._take("+"):
                node = _plus(node, self._unary())
            elif self._take("-"):
                node = _minus(node, self._unary())
            else:
                return node

    def _unary(self) -> Native:
        if self._take("!"):
            return _not(self._unary())
        if self._peek() == "-" and self.tokens[self.pos][0] == "op":
            raise _Unsupported  # negation (and negative literals): CEL's
        return self._member()

    def _member(self) -> Native:
        node = self._primary()
        while True:
            if self._take("."):
                name = self._name()
                if self._peek() == "(":  # a method (matches, exists, ...)
                    raise _Unsupported
                node = _field(node, name)
            elif self._take("["):
                key = self.expr()
                self._expect("]")
                node = _index(node, key)
            else:
                return node

    def _name(self) -> str:
        if self.pos >= len(self.tokens) or self.tokens[self.pos][0] != "name":
            raise _Unsupported
        name = self.tokens[self.pos][1]
        self.pos += 1
        return name

    def _primary(self) -> Native:  # noqa: PLR0911 - one return per kind of primary
        if self.pos >= len(self.tokens):
            raise _Unsupported
        kind, text = self.tokens[self.pos]
        if kind == "str":
            self.pos += 1
            return _constant(text[1:-1])
        if kind == "num":
            self.pos += 1
            number = int(text)
            if number > _INT_MAX:
                raise _Unsupported
            return _constant(number)
        if self._take("("):
            inner = self.expr()
            self._expect(")")
            return inner
        if self._take("["):
            items: list[Native] = []
            while not self._take("]"):
                if items:
                    self._expect(",")
                items.append(self.expr())
            return _list(tuple(items))
        if kind != "name":
            raise _Unsupported
        self.pos += 1
        if text in _LITERALS:
            return _constant(_LITERALS[text])
        if text in _RESERVED:
            raise _Unsupported
        if self._peek() == "(" and self.tokens[self.pos][0] == "op":
            return self._call(text)
        return _variable(text)

    def _call(self, function: str) -> Native:
        self._expect("(")
        if function == "has":
            # has(x.f): the argument must be a field selection, and is not evaluated whole.
            holder = self._primary()
            while True:
                if self._take("."):
                    name = self._name()
                    if self._peek() == ")":
                        self._expect(")")
                        return _has(holder, name)
                    holder = _field(holder, name)
                elif self._take("["):
                    key = self.expr()
                    self._expect("]")
                    holder = _index(holder, key)
                else:
                    raise _Unsupported
        if function == "size":
            argument = self.expr()
            self._expect(")")
            return _size(argument)
        raise _Unsupported


_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


# -- the operations; each raises Unsure where CEL's answer is not plainly Python's ----------


def _constant(value: Any) -> Native:
    return lambda act: value


def _variable(name: str) -> Native:
    def read(act: Mapping[str, Any]) -> Any:
        try:
            return act[name]
        except KeyError:
            raise _UNSURE from None

    return read


def _field(holder: Native, name: str) -> Native:
    def select(act: Mapping[str, Any]) -> Any:
        value = holder(act)
        if type(value) is not dict:
            raise _UNSURE
        try:
            return value[name]
        except KeyError:
            raise _UNSURE from None

    return select


def _index(holder: Native, key: Native) -> Native:
    def index(act: Mapping[str, Any]) -> Any:
        value = holder(act)
        at = key(act)
        if type(value) is dict and type(at) is str:
            try:
                return value[at]
            except KeyError:
                raise _UNSURE from None
        if type(value) is list and type(at) is int and 0 <= at < len(value):
            return value[at]
        raise _UNSURE

    return index


def _has(holder: Native, name: str) -> Native:
    def has(act: Mapping[str, Any]) -> Any:
        value = holder(act)
        if type(value) is not dict:
            raise _UNSURE
        return name in value

    return has


def _size(argument: Native) -> Native:
    def size(act: Mapping[str, Any]) -> Any:
        value = argument(act)
        kind = type(value)
        if kind is list or kind is dict:
            return len(value)
        raise _UNSURE  # text: CEL counts its UTF-8 bytes

    return size


def _list(items: tuple[Native, ...]) -> Native:
    return lambda act: [item(act) for item in items]


def _boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _UNSURE
    return value


def _not(operand: Native) -> Native:
    return lambda act: not _boolean(operand(act))


def _and(left: Native, right: Native) -> Native:
    # CEL's && is commutative over errors (`error && false` is false): when the left side is
    # not plainly true or false, CEL decides; a false left side is false whatever the right.
    def both(act: Mapping[str, Any]) -> Any:
        return _boolean(left(act)) and _boolean(right(act))

    return both


def _or(left: Native, right: Native) -> Native:
    def either(act: Mapping[str, Any]) -> Any:
        return _boolean(left(act)) or _boolean(right(act))

    return either


def _conditional(cond: Native, then: Native, other: Native) -> Native:
    return lambda act: then(act) if _boolean(cond(act)) else other(act)


def _plain(value: Any) -> type:
    """The type of a value whose CEL equality is Python's among values of the same type."""
    kind = type(value)
    if kind is str or kind is bool or kind is float:
        return kind
    if kind is int and _INT_MIN <= value <= _INT_MAX:
        return kind
    raise _UNSURE


def _equal(a: Any, b: Any) -> bool:
    """CEL's `==` where it is plainly Python's: null against anything, or two plain values
    of one type (text, booleans, int64s, doubles)."""
    if a is None or b is None:
        return a is b
    if _plain(a) is not _plain(b):
        raise _UNSURE  # true == 1, 1 == 1.0: CEL's rules, not Python's
    return bool(a == b)


def _eq(left: Native, right: Native) -> Native:
    return lambda act: _equal(left(act), right(act))


def _ne(left: Native, right: Native) -> Native:
    return lambda act: not _equal(left(act), right(act))


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Native, Native], Native]:
    def build(left: Native, right: Native) -> Native:
        def compare(act: Mapping[str, Any]) -> Any:
            a, b = left(act), right(act)
            if a is None or b is None or _plain(a) is not _plain(b) or type(a) is bool:
                raise _UNSURE
            return op(a, b)

        return compare

    return build


def _whole(value: Any) -> int:
    """An int64 (CEL's int): anything else, CEL decides."""
    if type(value) is not int or not _INT_MIN <= value <= _INT_MAX:
        raise _UNSURE
    return value


def _plus(left: Native, right: Native) -> Native:
    """`+` of two int64s (CEL fails on overflow: then CEL decides) or of two texts."""

    def plus(act: Mapping[str, Any]) -> Any:
        a, b = left(act), right(act)
        if type(a) is str and type(b) is str:
            return a + b
        total = _whole(a) + _whole(b)
        if not _INT_MIN <= total <= _INT_MAX:
            raise _UNSURE
        return total

    return plus


def _minus(left: Native, right: Native) -> Native:
    def minus(act: Mapping[str, Any]) -> Any:
        difference = _whole(left(act)) - _whole(right(act))
        if not _INT_MIN <= difference <= _INT_MAX:
            raise _UNSURE
        return difference

    return minus


def _in(item: Native, container: Native) -> Native:
    def contains(act: Mapping[str, Any]) -> Any:
        value, within = item(act), container(act)
        kind = type(within)
        if kind is dict:  # a key of the map
            if type(value) is not str:
                raise _UNSURE
            return value in within
        if kind is not list:
            raise _UNSURE
        if type(value) is str:
            # Text equals only equal text, in CEL (any other type compares unequal) as in Python.
            return value in within
        if value is None:
            return any(entry is None for entry in within)
        wanted = _plain(value)
        found = False
        for entry in within:
            if entry is None:
                continue
            if _plain(entry) is not wanted:
                raise _UNSURE
            if entry == value:
                found = True
        return found

    return contains


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def convertible(value: Any) -> bool:
    """Whether CEL can take `value` as it is given: JSON data whose text Rust can hold (a
    lone UTF-16 surrogate is not a character: CEL's conversion fails on it). Checked before
    this evaluator answers, so that CEL's conversion error stays CEL's answer."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _LONE_SURROGATE.search(value) is None
    if value is None or kind is bool or kind is int or kind is float:
        return True
    if kind is dict:
        return _all_convertible(value) and _all_convertible(value.values())
    if kind is list:
        return _all_convertible(value)
    return False


def _all_convertible(items: Any) -> bool:
    """Every item convertible (for a dict, every key). All text, the common case, is
    joined and checked in one pass in C."""
    try:
        joined = "".join(items)
    except TypeError:  # not all text
        return all(convertible(item) for item in items)
    return joined.isascii() or _LONE_SURROGATE.search(joined) is None


_RELATIONS: dict[str, Callable[[Native, Native], Native]] = {
    "==": _eq,
    "!=": _ne,
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
}
