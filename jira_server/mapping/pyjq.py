"""The part of jq that mappings use, evaluated in Python: mapping an issue with the jq library
costs ~190 µs (each call serialises the item, parses it, runs and prints), most of a sync's
CPU once the catalog is fast; the same expressions evaluated here take a fraction of it.

Correctness first: what is evaluated here gives jq's result (jq 1.7, as the ``jq`` package
runs it), and everything else is refused, so the caller runs real jq instead:

- at compile time, any construct or function not modelled raises ``Unsupported``;
- at run time, a value this module does not reproduce exactly (a float turned into a
  string, an integer past 2^53, a regex beyond a safe subset, several outputs where jq's
  order of combination would matter...) raises ``Unsupported`` for that item;
- jq's own errors (indexing a string, iterating null...) raise ``JqError``, as jq would.

``tests/unit/test_pyjq.py`` compares it with the jq library on a corpus of expressions and
inputs, errors included.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jira_server.mapping.jq_reads import Node, Parser, Unprovable

Env = dict[str, Any]
One = Callable[[Any, Env], Any]
Many = Callable[[Any, Env], Iterator[Any]]
MAX_EXACT_INT = 2**53
# Regular expressions whose meaning is the same for Oniguruma (Perl syntax, as jq uses it)
# and Python's re: literals, classes, groups, alternation, the usual quantifiers and escapes.
_SAFE_REGEX = re.compile(
    r"(?:[A-Za-z0-9 _/:.,*+?^$()\[\]{}|\-#@!%&=<>~'\"]|\\[dwsDWS./\-\\()\[\]{}*+?|^$])*"
)


class JqError(Exception):
    """jq itself would raise here."""


class Unsupported(Exception):
    """Not modelled: evaluate with jq."""


@dataclass(frozen=True)
class Compiled:
    """``one`` for expressions that always give exactly one output (or raise), else None;
    ``many`` for every expression."""

    one: One | None
    many: Many


def _single(one: One) -> Compiled:
    def many(value: Any, env: Env) -> Iterator[Any]:
        yield one(value, env)

    return Compiled(one, many)


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise Unsupported(f"a {type(value).__name__} value")


def truthy(value: Any) -> bool:
    return value is not None and value is not False


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exact(value: Any) -> Any:
    """jq prints a computed integral double without a fraction; beyond 2^53 it would round."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Unsupported("a non-finite number")
        if value.is_integer() and abs(value) < MAX_EXACT_INT:
            return int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_EXACT_INT:
        raise Unsupported("an integer beyond 2^53")
    return value


_RANK = {"null": 0, "boolean": 1, "number": 3, "string": 4, "array": 5, "object": 6}


def compare(a: Any, b: Any) -> int:
    """jq's total order: null < false < true < numbers < strings < arrays < objects."""
    ta, tb = _type(a), _type(b)
    ra = _RANK[ta] + (1 if a is True else 0)
    rb = _RANK[tb] + (1 if b is True else 0)
    if ra != rb:
        return -1 if ra < rb else 1
    if ta in ("null", "boolean"):
        return 0
    if ta == "number":  # jq holds numbers as doubles
        fa, fb = float(a), float(b)
        return int(fa > fb) - int(fa < fb)
    if ta == "string":
        return int(a > b) - int(a < b)
    if ta == "array":
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    keys_a, keys_b = sorted(a), sorted(b)
    c = compare(keys_a, keys_b)
    if c:
        return c
    for key in keys_a:
        c = compare(a[key], b[key])
        if c:
            return c
    return 0


def tojson(value: Any) -> str:
    _check_plain(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _check_plain(value: Any) -> None:
    """What ``json.dumps`` writes exactly as jq does: no floats, no control characters."""
    if isinstance(value, float):
        raise Unsupported("a float written as text")
    if isinstance(value, str):
        if any(c < " " or c in "\x7f\u2028\u2029" for c in value):
            raise Unsupported("a control character written as text")
    elif isinstance(value, list):
        for item in value:
            _check_plain(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key)
            _check_plain(item)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_EXACT_INT:
        raise Unsupported("an integer beyond 2^53")


def tostring(value: Any) -> str:
    if isinstance(value, str):
        return value
    return tojson(value)


def index(value: Any, key: Any) -> Any:
    if isinstance(key, str):
        if isinstance(value, dict):
            return value.get(key)
        if value is None:
            return None
        raise JqError(f"Cannot index {_type(value)} with string")
    if _number(key) and not isinstance(key, float):
        if isinstance(value, list):
            return value[key] if -len(value) <= key < len(value) else None
        if value is None:
            return None
        raise JqError(f"Cannot index {_type(value)} with number")
    raise Unsupported(f"an index of type {_type(key)}")


def iterate(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        yield from value
    elif isinstance(value, dict):
        yield from value.values()
    else:
        raise JqError(f"Cannot iterate over {_type(value)}")


def add(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if _number(a) and _number(b):
        return _exact(a + b)
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    if isinstance(a, dict) and isinstance(b, dict):
        return {**a, **b}
    raise JqError(f"{_type(a)} and {_type(b)} cannot be added")


def subtract(a: Any, b: Any) -> Any:
    if _number(a) and _number(b):
        return _exact(a - b)
    if isinstance(a, list) and isinstance(b, list):
        return [x for x in a if not any(compare(x, y) == 0 for y in b)]
    raise JqError(f"{_type(a)} and {_type(b)} cannot be subtracted")


def multiply(a: Any, b: Any) -> Any:
    if _number(a) and _number(b):
        return _exact(a * b)
    if isinstance(a, dict) and isinstance(b, dict):
        return _deep_merge(a, b)
    raise Unsupported(f"{_type(a)} * {_type(b)}")


def _deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = dict(a)
    for key, value in b.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def divide(a: Any, b: Any) -> Any:
    if _number(a) and _number(b):
        if b == 0:
            raise JqError("cannot be divided because the divisor is zero")
        return _exact(a / b)
    if isinstance(a, str) and isinstance(b, str):
        return split(a, b)
    raise JqError(f"{_type(a)} and {_type(b)} cannot be divided")


def modulo(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a | b, bool):
        if b == 0:
            raise JqError("cannot be divided because the divisor is zero")
        return int(math.fmod(a, b))
    raise Unsupported(f"{_type(a)} % {_type(b)}")


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
    "==": lambda a, b: compare(a, b) == 0,
    "!=": lambda a, b: compare(a, b) != 0,
    "<": lambda a, b: compare(a, b) < 0,
    "<=": lambda a, b: compare(a, b) <= 0,
    ">": lambda a, b: compare(a, b) > 0,
    ">=": lambda a, b: compare(a, b) >= 0,
}


def split(value: Any, separator: Any) -> list[str]:
    if not isinstance(value, str) or not isinstance(separator, str):
        raise JqError("split input and separator must be strings")
    if not separator:
        raise Unsupported("split on an empty separator")
    return value.split(separator)


def join(value: Any, separator: Any) -> str:
    if not isinstance(separator, str):
        raise Unsupported("a join separator that is not a string")
    parts = []
    for item in iterate(value):
        if item is None:
            parts.append("")
        elif isinstance(item, str):
            parts.append(item)
        elif isinstance(item, bool) or (_number(item) and not isinstance(item, float)):
            parts.append(tostring(item))
        elif isinstance(item, float):
            raise Unsupported("a float joined into text")
        else:
            raise JqError(f"Cannot join with {_type(item)}")
    return separator.join(parts)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _string_input(name: str, value: Any, *args: Any) -> None:
    if not isinstance(value, str) or not all(isinstance(a, str) for a in args):
        raise JqError(f"{name}() requires string inputs")


def length(value: Any) -> Any:
    if value is None:
        return 0
    if isinstance(value, bool):
        raise JqError("boolean has no length")
    if _number(value):
        return _exact(abs(value))
    if isinstance(value, str | list | dict):
        return len(value)
    raise Unsupported("length of this value")


def keys(value: Any, ordered: bool) -> list[Any]:
    if isinstance(value, dict):
        return sorted(value) if ordered else list(value)
    if isinstance(value, list):
        return list(range(len(value)))
    raise JqError(f"{_type(value)} has no keys")


def has(value: Any, key: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict) and isinstance(key, str):
        return key in value
    if isinstance(value, list) and _number(key) and not isinstance(key, float):
        return bool(0 <= key < len(value))
    raise JqError(f"Cannot check whether {_type(value)} has a key")


def _sorted(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise JqError(f"{_type(value)} cannot be sorted, as it is not an array")
    return sorted(value, key=functools.cmp_to_key(compare))


def unique(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in _sorted(value):
        if not out or compare(out[-1], item) != 0:
            out.append(item)
    return out


def flatten(value: Any) -> list[Any]:
    """jq's ``reduce .[] as $i ([]; ...)``: an object's values at the top, arrays below."""
    out: list[Any] = []
    for item in iterate(value):
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def to_entries(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        raise Unsupported(f"to_entries of {_type(value)}")
    return [{"key": k, "value": v} for k, v in value.items()]


def recurse(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, list):
        for item in value:
            yield from recurse(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from recurse(item)


def _regex(node: Node) -> re.Pattern[str]:
    text = _plain(node)
    if text is None or not _SAFE_REGEX.fullmatch(text):
        raise Unsupported("a regular expression beyond the safe subset")
    try:
        return re.compile(text)
    except re.error as exc:
        raise Unsupported(f"a regular expression Python reads differently: {exc}") from None


def _matchable(value: Any) -> str:
    """Oniguruma (jq) and Python agree on ASCII text without line breaks; beyond it they
    differ (Unicode classes, ``$`` before a final newline), so jq decides."""
    if not isinstance(value, str):
        raise JqError(f"{_type(value)} cannot be matched, as it is not a string")
    if not value.isascii() or "\n" in value or "\r" in value:
        raise Unsupported("a regular expression on text beyond plain ASCII lines")
    return value


def _plain(node: Node) -> str | None:
    if node.op == "string" and all(isinstance(p, str) for p in node.args[0]):
        return "".join(node.args[0])
    return None


# ---- the compiler -----------------------------------------------------------------------


class Compiler:
    def __init__(self, environment: dict[str, Any]) -> None:
        self.environment = environment

    def compile(self, node: Node) -> Compiled:
        method = getattr(self, f"_{node.op}", None)
        if method is None:
            raise Unsupported(f"the construct {node.op}")
        compiled: Compiled = method(node)
        return compiled

    def _identity(self, node: Node) -> Compiled:
        return _single(lambda v, env: v)

    def _literal(self, node: Node) -> Compiled:
        value = node.args[0]
        if isinstance(value, float):
            raise Unsupported("a number literal with a fraction")
        if isinstance(value, list):
            return _single(lambda v, env: [])
        return _single(lambda v, env: value)

    def _field(self, node: Node) -> Compiled:
        name = node.args[0]

        def one(v: Any, env: Env) -> Any:
            if type(v) is dict:
                return v.get(name)
            return index(v, name)

        return _single(one)

    def _index(self, node: Node) -> Compiled:
        key = self.compile(node.args[0])
        if key.one is None:
            raise Unsupported("an index with several outputs")
        get = key.one
        return _single(lambda v, env: index(v, get(v, env)))

    def _slice(self, node: Node) -> Compiled:
        bounds = [self.compile(b) if b is not None else None for b in node.args]
        if any(b is not None and b.one is None for b in bounds):
            raise Unsupported("slice bounds with several outputs")

        def one(v: Any, env: Env) -> Any:
            lower, upper = (b.one(v, env) if b and b.one else None for b in bounds)
            for bound in (lower, upper):
                if bound is not None and (not _number(bound) or isinstance(bound, float)):
                    raise Unsupported("a slice bound that is not an integer")
            if v is None:
                return None
            if isinstance(v, list | str):
                return v[lower:upper]
            raise JqError(f"Cannot index {_type(v)} with object")

        return _single(one)

    def _each(self, node: Node) -> Compiled:
        return Compiled(None, lambda v, env: iterate(v))

    def _recurse(self, node: Node) -> Compiled:
        return Compiled(None, lambda v, env: recurse(v))

    def _pipe(self, node: Node) -> Compiled:
        left, right = (self.compile(a) for a in node.args)
        if left.one and right.one:
            first, second = left.one, right.one
            return _single(lambda v, env: second(first(v, env), env))
        lmany, rmany = left.many, right.many

        def many(v: Any, env: Env) -> Iterator[Any]:
            for middle in lmany(v, env):
                yield from rmany(middle, env)

        return Compiled(None, many)

    def _comma(self, node: Node) -> Compiled:
        left, right = (self.compile(a).many for a in node.args)

        def many(v: Any, env: Env) -> Iterator[Any]:
            yield from left(v, env)
            yield from right(v, env)

        return Compiled(None, many)

    def _alt(self, node: Node) -> Compiled:
        left, right = (self.compile(a) for a in node.args)
        if left.one and right.one:
            lone, rone = left.one, right.one

            def one(v: Any, env: Env) -> Any:
                found = lone(v, env)
                return found if truthy(found) else rone(v, env)

            return _single(one)
        lmany, rmany = left.many, right.many

        def many(v: Any, env: Env) -> Iterator[Any]:
            found = [x for x in lmany(v, env) if truthy(x)]
            if found:
                yield from found
            else:
                yield from rmany(v, env)

        return Compiled(None, many)

    def _binop(self, node: Node) -> Compiled:
        op, *operands = node.args
        left, right = (self.compile(a) for a in operands)
        if not (left.one and right.one):
            raise Unsupported("an operator over several outputs")
        apply, lone, rone = _BINOPS[op], left.one, right.one
        # jq evaluates the right operand first (its outer loop).
        return _single(lambda v, env: apply(lone(v, env), rone(v, env)))

    def _neg(self, node: Node) -> Compiled:
        inner = self.compile(node.args[0])
        if inner.one is None:
            raise Unsupported("negation of several outputs")
        get = inner.one

        def one(v: Any, env: Env) -> Any:
            found = get(v, env)
            if not _number(found):
                raise JqError(f"{_type(found)} cannot be negated")
            return _exact(-found)

        return _single(one)

    def _and(self, node: Node) -> Compiled:
        return self._logic(node, conjunction=True)

    def _or(self, node: Node) -> Compiled:
        return self._logic(node, conjunction=False)

    def _logic(self, node: Node, *, conjunction: bool) -> Compiled:
        left, right = (self.compile(a) for a in node.args)
        if not (left.one and right.one):
            raise Unsupported("and/or over several outputs")
        lone, rone = left.one, right.one

        def one(v: Any, env: Env) -> bool:
            first = truthy(lone(v, env))
            if first is not conjunction:  # false and ..., true or ...
                return first
            return truthy(rone(v, env))

        return _single(one)

    def _string(self, node: Node) -> Compiled:
        parts: list[Any] = []
        for part in node.args[0]:
            if isinstance(part, str):
                parts.append(part)
                continue
            compiled = self.compile(part)
            if compiled.one is None:
                raise Unsupported("an interpolation with several outputs")
            parts.append(compiled.one)

        def one(v: Any, env: Env) -> str:
            return "".join(p if isinstance(p, str) else tostring(p(v, env)) for p in parts)

        return _single(one)

    def _collect(self, node: Node) -> Compiled:
        inner = self.compile(node.args[0]).many
        return _single(lambda v, env: list(inner(v, env)))

    def _object(self, node: Node) -> Compiled:
        entries = []
        for key, value in node.args[0]:
            ck, cv = self.compile(key), self.compile(value)
            if ck.one is None or cv.one is None:
                raise Unsupported("an object with several outputs")
            entries.append((ck.one, cv.one))

        def one(v: Any, env: Env) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in entries:
                name = key(v, env)
                if not isinstance(name, str):
                    raise JqError(f"Object keys must be strings, not {_type(name)}")
                out[name] = value(v, env)
            return out

        return _single(one)

    def _var(self, node: Node) -> Compiled:
        name = node.args[0]
        if name == "$ENV":
            environment = self.environment
            return _single(lambda v, env: environment)
        if name == "$__loc__":
            raise Unsupported("$__loc__")

        def one(v: Any, env: Env) -> Any:
            if name not in env:
                raise Unsupported(f"the variable {name}")
            return env[name]

        return _single(one)

    def _as(self, node: Node) -> Compiled:
        source, name, body = node.args
        csource, cbody = self.compile(source), self.compile(body)
        if csource.one and cbody.one:
            sone, bone = csource.one, cbody.one
            return _single(lambda v, env: bone(v, {**env, name: sone(v, env)}))
        smany, bmany = csource.many, cbody.many

        def many(v: Any, env: Env) -> Iterator[Any]:
            for bound in smany(v, env):
                yield from bmany(v, {**env, name: bound})

        return Compiled(None, many)

    def _if(self, node: Node) -> Compiled:
        branches, otherwise = node.args
        compiled = [(self.compile(c), self.compile(t)) for c, t in branches]
        other = self.compile(otherwise)
        if any(c.one is None for c, _ in compiled):
            raise Unsupported("a condition with several outputs")
        single = all(t.one for _, t in compiled) and other.one is not None

        def pick(v: Any, env: Env) -> Compiled:
            for condition, then in compiled:
                assert condition.one is not None
                if truthy(condition.one(v, env)):
                    return then
            return other

        if single:
            return _single(lambda v, env: pick(v, env).one(v, env))  # type: ignore[misc]
        return Compiled(None, lambda v, env: pick(v, env).many(v, env))

    def _try(self, node: Node) -> Compiled:
        body, handler = node.args
        if handler is not None:
            raise Unsupported("try ... catch")
        inner = self.compile(body).many

        def many(v: Any, env: Env) -> Iterator[Any]:
            try:
                yield from inner(v, env)
            except JqError:
                return

        return Compiled(None, many)

    def _format(self, node: Node) -> Compiled:
        raise Unsupported(f"the format {node.args[0]}")

    def _call(self, node: Node) -> Compiled:
        name, args = node.args
        key = f"{name}/{len(args)}"
        simple = _SIMPLE.get(key)
        if simple is not None:
            return _single(lambda v, env: simple(v))
        method = getattr(self, f"_call_{name}_{len(args)}", None)
        if method is None:
            raise Unsupported(f"the function {key}")
        compiled: Compiled = method(*args)
        return compiled

    # functions taking arguments or producing other than one output

    def _call_empty_0(self) -> Compiled:
        return Compiled(None, lambda v, env: iter(()))

    def _call_error_0(self) -> Compiled:
        def one(v: Any, env: Env) -> Any:
            raise JqError(str(v))

        return _single(one)

    def _call_error_1(self, message: Node) -> Compiled:
        compiled = self.compile(message)
        if compiled.one is None:
            raise Unsupported("an error message with several outputs")
        get = compiled.one

        def one(v: Any, env: Env) -> Any:
            raise JqError(str(get(v, env)))

        return _single(one)

    def _call_env_0(self) -> Compiled:
        environment = self.environment
        return _single(lambda v, env: environment)

    def _call_map_1(self, f: Node) -> Compiled:
        inner = self.compile(f)
        if inner.one:
            fone = inner.one
            return _single(lambda v, env: [fone(x, env) for x in iterate(v)])
        fmany = inner.many
        return _single(lambda v, env: [y for x in iterate(v) for y in fmany(x, env)])

    def _call_select_1(self, f: Node) -> Compiled:
        inner = self.compile(f).many

        def many(v: Any, env: Env) -> Iterator[Any]:
            for verdict in inner(v, env):
                if truthy(verdict):
                    yield v

        return Compiled(None, many)

    def _call_first_1(self, f: Node) -> Compiled:
        inner = self.compile(f).many

        def many(v: Any, env: Env) -> Iterator[Any]:
            for found in inner(v, env):
                yield found
                return

        return Compiled(None, many)

    def _call_has_1(self, key: Node) -> Compiled:
        return self._with_argument(key, has)

    def _call_split_1(self, separator: Node) -> Compiled:
        return self._with_argument(separator, split)

    def _call_join_1(self, separator: Node) -> Compiled:
        return self._with_argument(separator, join)

    def _call_startswith_1(self, prefix: Node) -> Compiled:
        def startswith(v: Any, p: Any) -> bool:
            _string_input("startswith", v, p)
            return bool(v.startswith(p))

        return self._with_argument(prefix, startswith)

    def _call_endswith_1(self, suffix: Node) -> Compiled:
        def endswith(v: Any, s: Any) -> bool:
            _string_input("endswith", v, s)
            return bool(v.endswith(s))

        return self._with_argument(suffix, endswith)

    def _call_ltrimstr_1(self, prefix: Node) -> Compiled:
        def ltrimstr(v: Any, p: Any) -> Any:
            _string_input("startswith", v, p)
            return v[len(p) :] if v.startswith(p) else v

        return self._with_argument(prefix, ltrimstr)

    def _call_rtrimstr_1(self, suffix: Node) -> Compiled:
        def rtrimstr(v: Any, s: Any) -> Any:
            _string_input("endswith", v, s)
            return v[: len(v) - len(s)] if s and v.endswith(s) else v

        return self._with_argument(suffix, rtrimstr)

    def _call_test_1(self, pattern: Node) -> Compiled:
        regex = _regex(pattern)

        def one(v: Any, env: Env) -> bool:
            return regex.search(_matchable(v)) is not None

        return _single(one)

    def _call_sub_2(self, pattern: Node, replacement: Node) -> Compiled:
        return self._substitute(pattern, replacement, count=1)

    def _call_gsub_2(self, pattern: Node, replacement: Node) -> Compiled:
        return self._substitute(pattern, replacement, count=0)

    def _substitute(self, pattern: Node, replacement: Node, count: int) -> Compiled:
        regex = _regex(pattern)
        text = _plain(replacement)
        if text is None:
            raise Unsupported("a replacement that is not a plain string")
        if count == 0 and regex.fullmatch(""):
            raise Unsupported("gsub with a pattern matching the empty string")

        def one(v: Any, env: Env) -> str:
            return regex.sub(lambda _: text, _matchable(v), count=count)

        return _single(one)

    def _with_argument(self, argument: Node, apply: Callable[[Any, Any], Any]) -> Compiled:
        compiled = self.compile(argument)
        if compiled.one is None:
            raise Unsupported("an argument with several outputs")
        get = compiled.one
        return _single(lambda v, env: apply(v, get(v, env)))


def _first(v: Any) -> Any:
    return index(v, 0)


def _last(v: Any) -> Any:
    return index(v, -1)


def _add_all(v: Any) -> Any:
    if not isinstance(v, list):
        raise Unsupported(f"add over {_type(v)}")
    return functools.reduce(add, v, None)


def _tonumber(v: Any) -> Any:
    if _number(v):
        return v
    if isinstance(v, str) and re.fullmatch(r"-?[0-9]{1,15}", v):
        return int(v)
    raise Unsupported("tonumber of this text")


def _reverse(v: Any) -> Any:
    if isinstance(v, list):
        return v[::-1]
    raise Unsupported(f"reverse of {_type(v)}")


def _extreme(pick: int) -> Callable[[Any], Any]:
    def extreme(v: Any) -> Any:
        items = _sorted(v)
        return items[pick] if items else None

    return extreme


def _logic_all(any_: bool) -> Callable[[Any], Any]:
    def check(v: Any) -> bool:
        if not isinstance(v, list):
            raise Unsupported("any/all over a non-array")
        return any(truthy(x) for x in v) if any_ else all(truthy(x) for x in v)

    return check


def _case(table: dict[int, int], name: str) -> Callable[[Any], Any]:
    def change(v: Any) -> str:
        if not isinstance(v, str):
            raise JqError(f"{name} input must be a string")
        return v.translate(table)

    return change


_SIMPLE: dict[str, Callable[[Any], Any]] = {
    "null/0": lambda v: None,
    "true/0": lambda v: True,
    "false/0": lambda v: False,
    "not/0": lambda v: not truthy(v),
    "length/0": length,
    "keys/0": lambda v: keys(v, ordered=True),
    "keys_unsorted/0": lambda v: keys(v, ordered=False),
    "tostring/0": tostring,
    "tojson/0": tojson,
    "tonumber/0": _tonumber,
    "type/0": _type,
    "ascii_downcase/0": _case(_ASCII_LOWER, "explode"),
    "ascii_upcase/0": _case(_ASCII_UPPER, "explode"),
    "first/0": _first,
    "last/0": _last,
    "add/0": _add_all,
    "sort/0": _sorted,
    "unique/0": unique,
    "min/0": _extreme(0),
    "max/0": _extreme(-1),
    "flatten/0": flatten,
    "reverse/0": _reverse,
    "to_entries/0": to_entries,
    "any/0": _logic_all(True),
    "all/0": _logic_all(False),
}


def compile_expression(text: str, environment: dict[str, Any] | None = None) -> Compiled:
    """Raises ``Unsupported`` for anything not modelled (the caller then uses jq)."""
    try:
        node = Parser(text).parse()
    except Unprovable as exc:
        raise Unsupported(str(exc)) from None
    return Compiler(environment or {}).compile(node)


def first_output(compiled: Compiled, value: Any) -> Any:
    """The expression's first output, or None: the framework's reading of a mapping."""
    if compiled.one is not None:
        return compiled.one(value, {})
    return next(compiled.many(value, {}), None)


def as_jq_returns(value: Any) -> Any:
    """An output as the jq library hands it back: integral numbers as ``int``, integers past
    2^53 rounded through a double, as jq stores every number."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Unsupported("a non-finite number")
        return int(value) if value.is_integer() else value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_EXACT_INT:
        return int(float(value))
    if isinstance(value, list):
        return [as_jq_returns(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unsupported("an object key that is not a string")
        return {k: as_jq_returns(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | str):
        return value
    raise Unsupported(f"a {type(value).__name__} value")
