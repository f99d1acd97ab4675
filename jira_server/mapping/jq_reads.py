"""Which parts of its input a jq expression can read, decided from the expression alone.

A small parser for the jq language and an abstract evaluation over *paths*: the input is
the root path ``()``; ``.a`` moves to ``(..., "a")``, ``.[]``/``.[n]``/``map(f)`` to
``(..., "*")`` (every element or member). Each value is traced to the paths it came from,
and each use of a value records what must survive for the expression to give the same
result on a pruned copy of the input:

- ``whole``: the value is used as a whole (output by the mapping, compared, turned into a
  string, counted, put into an array or object...): its subtree is kept untouched;
- ``present``: only its existence and truthiness matter (``//``, ``if``, ``select``,
  ``and``/``or``, ``has``): the key is kept, with whatever its children need.

Anything the analysis does not model (``reduce``, ``def``, assignments, destructuring,
unknown functions, ``input``...) raises ``Unprovable``: the caller then does not prune at
all. The analysis errs on the side of keeping: a function it knows only by name consumes its
input and arguments whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str, ...]
STAR = "*"


class Unprovable(ValueError):
    """The expression uses something the analysis cannot bound."""


# ---- tokens ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<string>")
  | (?P<format>@[A-Za-z0-9_]+)
  | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*|\$__loc__)
  | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\d+(\.\d+)?([eE][+-]?\d+)?|\.\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>\?//|\.\.|//=|\|=|\+=|-=|\*=|/=|%=|==|!=|<=|>=|//|[.|,=<>+\-*/%()\[\]{}:;?])
    """,
    re.VERBOSE,
)
KEYWORDS = frozenset(
    {
        "if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach", "try",
        "catch", "label", "import", "include", "and", "or", "__loc__",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    parts: tuple[Any, ...] = ()  # a string: literal text and interpolated expressions


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            raise Unprovable(f"cannot read {text[at : at + 20]!r}")
        kind = match.lastgroup or ""
        if kind == "ws":
            at = match.end()
            continue
        if kind == "string":
            token, at = _string(text, match.end())
            tokens.append(token)
            continue
        tokens.append(Token(kind, match.group()))
        at = match.end()
    tokens.append(Token("eof", ""))
    return tokens


def _string(text: str, at: int) -> tuple[Token, int]:
    """A double-quoted string from after its quote: literal parts and ``\\(expr)`` parts."""
    parts: list[Any] = []
    literal: list[str] = []
    while at < len(text):
        char = text[at]
        if char == '"':
            parts.append("".join(literal))
            return Token(
                "string", "".join(p for p in parts if isinstance(p, str)), tuple(parts)
            ), at + 1
        if char == "\\" and at + 1 < len(text):
            nxt = text[at + 1]
            if nxt == "(":
                depth, start, at = 1, at + 2, at + 2
                while at < len(text) and depth:
                    if text[at] == '"':
                        _, at = _string(text, at + 1)
                        continue
                    depth += {"(": 1, ")": -1}.get(text[at], 0)
                    at += 1
                parts.append("".join(literal))
                literal = []
                parts.append(Parser(text[start : at - 1]).parse())
                continue
            literal.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
            at += 2
            continue
        literal.append(char)
        at += 1
    raise Unprovable("unterminated string")


# ---- syntax tree -----------------------------------------------------------------------


def _number(text: str) -> int | float:
    """An integer only when written as one: jq keeps a literal's text (``1.0 | tostring`` is
    "1.0"), so an evaluator must know it was not written ``1``."""
    return int(text) if text.isdigit() else float(text)


def _parts(token: Token) -> tuple[Any, ...]:
    """A string token's literal text and interpolated expressions, in order (empty text
    parts dropped)."""
    return tuple(p for p in token.parts if not (isinstance(p, str) and not p))


@dataclass(frozen=True)
class Node:
    op: str
    args: tuple[Any, ...] = ()


class Parser:
    """jq's grammar, as far as mappings use it (precedence from jq's manual)."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    def parse(self) -> Node:
        node = self.pipe()
        if self.peek().kind != "eof":
            raise Unprovable(f"unexpected {self.peek().text!r}")
        return node

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.at + ahead, len(self.tokens) - 1)]

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if text is not None and token.text != text:
            raise Unprovable(f"expected {text!r}, found {token.text!r}")
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek().text == text and self.peek().kind in ("op", "ident"):
            self.at += 1
            return True
        return False

    def pipe(self) -> Node:
        if self.peek().text in ("def", "reduce", "foreach", "label", "import", "include"):
            raise Unprovable(f"{self.peek().text} is not analysed")
        left = self.comma()
        if self.accept("as"):
            var = self.take()
            if var.kind != "var":
                raise Unprovable("destructuring is not analysed")
            self.take("|")
            return Node("as", (left, var.text, self.pipe()))
        if self.accept("|"):
            return Node("pipe", (left, self.pipe()))
        return left

    def comma(self) -> Node:
        node = self.alternative()
        while self.accept(","):
            node = Node("comma", (node, self.alternative()))
        return node

    def alternative(self) -> Node:
        node = self.assignment()
        if self.accept("//"):
            return Node("alt", (node, self.alternative()))
        return node

    def assignment(self) -> Node:
        node = self.or_()
        if self.peek().text in ("=", "|=", "+=", "-=", "*=", "/=", "%=", "//=", "?//"):
            raise Unprovable("assignments are not analysed")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("or"):
            node = Node("or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.compare()
        while self.accept("and"):
            node = Node("and", (node, self.compare()))
        return node

    def compare(self) -> Node:
        node = self.additive()
        if self.peek().text in ("==", "!=", "<", "<=", ">", ">=") and self.peek().kind == "op":
            op = self.take().text
            return Node("binop", (op, node, self.additive()))
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.take().text
            node = Node("binop", (op, node, self.multiplicative()))
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op = self.take().text
            node = Node("binop", (op, node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.peek().kind == "op" and self.peek().text == "-":
            self.take()
            return Node("neg", (self.postfix(),))
        return self.postfix()

    def postfix(self) -> Node:
        node = self.term()
        while True:
            token = self.peek()
            if token.kind == "field":
                self.take()
                node = Node("pipe", (node, Node("field", (token.text[1:],))))
            elif token.kind == "op" and token.text == "." and self.peek(1).kind == "string":
                self.take()
                node = Node("pipe", (node, Node("field", (self.take().text,))))
            elif token.kind == "op" and token.text == "." and self.peek(1).text == "[":
                self.take()
            elif token.kind == "op" and token.text == "[":
                node = Node("pipe", (node, self.index()))
            elif token.kind == "op" and token.text == "?":
                self.take()
                node = Node("try", (node, None))
            else:
                return node

    def index(self) -> Node:
        self.take("[")
        if self.accept("]"):
            return Node("each")
        if self.peek().text == ":":
            self.take()
            upper = self.pipe()
            self.take("]")
            return Node("slice", (None, upper))
        inner = self.pipe()
        if self.accept(":"):
            end = None if self.peek().text == "]" else self.pipe()
            self.take("]")
            return Node("slice", (inner, end))
        self.take("]")
        if inner.op == "string" and all(isinstance(p, str) for p in inner.args[0]):
            return Node("field", ("".join(inner.args[0]),))
        return Node("index", (inner,))

    def term(self) -> Node:
        token = self.peek()
        if token.kind == "field":
            self.take()
            return Node("field", (token.text[1:],))
        if token.kind == "op":
            if token.text == ".":
                self.take()
                if self.peek().kind == "string":
                    return Node("field", (self.take().text,))
                return Node("identity")
            if token.text == "..":
                self.take()
                return Node("recurse")
            if token.text == "(":
                self.take()
                node = self.pipe()
                self.take(")")
                return node
            if token.text == "[":
                self.take()
                if self.accept("]"):
                    return Node("literal", ([],))
                node = self.pipe()
                self.take("]")
                return Node("collect", (node,))
            if token.text == "{":
                return self.object()
        if token.kind == "number":
            self.take()
            return Node("literal", (_number(token.text),))
        if token.kind == "string":
            self.take()
            return Node("string", (_parts(token),))
        if token.kind == "format":
            self.take()
            string = self.take() if self.peek().kind == "string" else None
            return Node("format", (token.text, _parts(string) if string else None))
        if token.kind == "var":
            self.take()
            return Node("var", (token.text,))
        if token.kind == "ident":
            return self.word()
        raise Unprovable(f"unexpected {token.text!r}")

    def word(self) -> Node:
        name = self.take().text
        if name == "if":
            branches: list[tuple[Node, Node]] = []
            condition = self.pipe()
            self.take("then")
            branches.append((condition, self.pipe()))
            while self.accept("elif"):
                condition = self.pipe()
                self.take("then")
                branches.append((condition, self.pipe()))
            otherwise = self.pipe() if self.accept("else") else Node("identity")
            self.take("end")
            return Node("if", (tuple(branches), otherwise))
        if name == "try":
            body = self.postfix()
            handler = self.postfix() if self.accept("catch") else None
            return Node("try", (body, handler))
        if name in KEYWORDS:
            raise Unprovable(f"{name} is not analysed")
        args: list[Node] = []
        if self.accept("("):
            args.append(self.pipe())
            while self.accept(";"):
                args.append(self.pipe())
            self.take(")")
        return Node("call", (name, tuple(args)))

    def object(self) -> Node:
        """``{a: v, "b": v, (k): v, $x, a, "a b", @fmt "k": v}`` as (key, value) pairs; a
        shorthand's key is the literal name, its value the field or variable."""
        self.take("{")
        entries: list[tuple[Node, Node]] = []
        while not self.accept("}"):
            token = self.peek()
            if token.kind == "var":
                self.take()
                entries.append((Node("literal", (token.text[1:],)), Node("var", (token.text,))))
            elif token.text == "(":
                self.take()
                key = self.pipe()
                self.take(")")
                self.take(":")
                entries.append((key, self.object_value()))
            elif token.kind in ("ident", "string"):
                self.take()
                plain = token.kind == "ident" or all(isinstance(p, str) for p in token.parts)
                key = Node("literal", (token.text,)) if plain else Node("string", (_parts(token),))
                if self.accept(":"):
                    entries.append((key, self.object_value()))
                elif plain:
                    entries.append((key, Node("field", (token.text,))))
                else:
                    raise Unprovable("an interpolated object key without a value")
            elif token.kind == "format":
                key = self.term()
                self.take(":")
                entries.append((key, self.object_value()))
            else:
                raise Unprovable(f"unexpected {token.text!r} in an object")
            self.accept(",")
        return Node("object", (tuple(entries),))

    def object_value(self) -> Node:
        node = self.alternative()
        while self.peek().text == "|":  # `{a: .x | f}` binds the pipe inside the value
            self.take()
            node = Node("pipe", (node, self.alternative()))
        return node


# ---- abstract evaluation ---------------------------------------------------------------

NEW: Path = ("<new>",)  # a value not taken from the input
# Functions that read only their input and arguments (both used whole) and build a new value.
VALUE_FUNCTIONS = frozenset(
    [
        "length",
        "utf8bytelength",
        "not",
        "keys",
        "keys_unsorted",
        "values",
        "to_entries",
        "from_entries",
        "tojson",
        "fromjson",
        "tostring",
        "tonumber",
        "ascii_downcase",
        "ascii_upcase",
        "ltrimstr",
        "rtrimstr",
        "trimstr",
        "trim",
        "ltrim",
        "rtrim",
        "startswith",
        "endswith",
        "test",
        "match",
        "capture",
        "scan",
        "sub",
        "gsub",
        "split",
        "splits",
        "join",
        "ascii",
        "explode",
        "implode",
        "type",
        "floor",
        "ceil",
        "round",
        "sqrt",
        "fabs",
        "abs",
        "pow",
        "log",
        "exp",
        "log10",
        "log2",
        "exp10",
        "min",
        "max",
        "add",
        "any",
        "all",
        "flatten",
        "sort",
        "unique",
        "reverse",
        "contains",
        "inside",
        "indices",
        "index",
        "rindex",
        "todate",
        "fromdate",
        "fromdateiso8601",
        "todateiso8601",
        "dateadd",
        "datesub",
        "date",
        "now",
        "mktime",
        "gmtime",
        "localtime",
        "strftime",
        "strptime",
        "strflocaltime",
        "tostream",
        "getpath",
        "paths",
        "leaf_paths",
        "in",
        "isvalid",
        "nulls",
        "booleans",
        "numbers",
        "strings",
        "arrays",
        "objects",
        "iterables",
        "scalars",
        "infinite",
        "nan",
        "isinfinite",
        "isnan",
        "isnormal",
        "range",
        "combinations",
        "group_by",
        "unique_by",
        "sort_by",
        "min_by",
        "max_by",
        "map_values",
        "with_entries",
        "del",
        "walk",
        "recurse",
        "env",
        "builtins",
        "input_line_number",
        "significand",
        "logb",
        "gamma",
        "toarray",
        "pick",
        "abs",
        "have_literal_numbers",
        "have_decnum",
        "IN",
        "INDEX",
        "ascii",
        "error",
        "tojson",
        "halt",
        "halt_error",
        "debug",
        "stderr",
        "input_filename",
        "splits",
        "getpath",
        "error",
        "limit",
        "until",
        "while",
        "repeat",
        "isempty",
        "first",
        "last",
        "nth",
        "to_number",
        "ascii",
        "setpath",
        "delpaths",
        "transpose",
    ]
)
NO_INPUT_FUNCTIONS = frozenset(
    {
        "empty",
        "now",
        "env",
        "builtins",
        "infinite",
        "nan",
        "null",
        "true",
        "false",
        "input_filename",
    }
)


@dataclass
class Reads:
    whole: set[Path] = field(default_factory=set)
    present: set[Path] = field(default_factory=set)

    def use_whole(self, values: frozenset[Path]) -> None:
        self.whole.update(v for v in values if v != NEW)

    def use_present(self, values: frozenset[Path]) -> None:
        self.present.update(v for v in values if v != NEW)


class Evaluator:
    def __init__(self, reads: Reads) -> None:
        self.reads = reads

    def run(
        self, node: Node, context: frozenset[Path], env: dict[str, frozenset[Path]]
    ) -> frozenset[Path]:
        method = getattr(self, f"_{node.op}")
        result: frozenset[Path] = method(node, context, env)
        return result

    def _identity(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return context

    def _literal(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return frozenset({NEW})

    def _field(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return frozenset(NEW if p == NEW else (*p, node.args[0]) for p in context)

    def _each(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return frozenset(NEW if p == NEW else (*p, STAR) for p in context)

    def _slice(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        for bound in node.args:
            if bound is not None:
                self.reads.use_whole(self.run(bound, context, env))
        self.reads.use_whole(context)  # a slice of a string or array is a new value
        return frozenset({NEW})

    def _index(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        self.reads.use_whole(self.run(node.args[0], context, env))
        return self._each(node, context, env)

    def _recurse(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        self.reads.use_whole(context)
        return context

    def _pipe(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return self.run(node.args[1], self.run(node.args[0], context, env), env)

    def _as(
        self, node: Node, context: frozenset[Path], env: dict[str, frozenset[Path]]
    ) -> frozenset[Path]:
        source, name, body = node.args
        bound = self.run(source, context, env)
        return self.run(body, context, {**env, name: bound})

    def _comma(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return self.run(node.args[0], context, env) | self.run(node.args[1], context, env)

    def _alt(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        left = self.run(node.args[0], context, env)
        self.reads.use_present(left)
        return left | self.run(node.args[1], context, env)

    def _and(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        for arg in node.args:
            self.reads.use_present(self.run(arg, context, env))
        return frozenset({NEW})

    _or = _and

    def _binop(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return self._value(Node("value", node.args[1:]), context, env)

    def _neg(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return self._value(Node("value", node.args), context, env)

    def _format(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        _, parts = node.args
        if parts is None:  # ``@base64`` alone formats the input
            self.reads.use_whole(context)
            return frozenset({NEW})
        return self._string(Node("string", (parts,)), context, env)

    def _value(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        for arg in node.args:
            self.reads.use_whole(self.run(arg, context, env))
        return frozenset({NEW})

    def _collect(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        return self._value(node, context, env)

    def _string(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        interpolated = tuple(p for p in node.args[0] if isinstance(p, Node))
        return self._value(Node("value", interpolated), context, env)

    def _object(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        for key, value in node.args[0]:
            self.reads.use_whole(self.run(key, context, env))
            self.reads.use_whole(self.run(value, context, env))
        return frozenset({NEW})

    def _var(
        self, node: Node, context: frozenset[Path], env: dict[str, frozenset[Path]]
    ) -> frozenset[Path]:
        name = node.args[0]
        if name in env:
            return env[name]
        if name in ("$ENV", "$__loc__"):
            return frozenset({NEW})
        raise Unprovable(f"the variable {name} is not analysed")

    def _if(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        branches, otherwise = node.args
        result: frozenset[Path] = frozenset()
        for condition, then in branches:
            self.reads.use_present(self.run(condition, context, env))
            result |= self.run(then, context, env)
        return result | self.run(otherwise, context, env)

    def _try(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        body, handler = node.args
        result = self.run(body, context, env)
        if handler is not None:
            result |= self.run(handler, frozenset({NEW}), env)
        return result

    def _call(self, node: Node, context: frozenset[Path], env: Any) -> frozenset[Path]:
        name, args = node.args
        if name in ("null", "true", "false") and not args:
            return frozenset({NEW})
        if name == "empty" and not args:
            return frozenset()
        if name == "map" and len(args) == 1:
            self.reads.use_whole(self.run(args[0], self._each(node, context, env), env))
            return frozenset({NEW})
        if name == "select" and len(args) == 1:
            self.reads.use_present(self.run(args[0], context, env))
            return context
        if name in ("first", "last") and not args:
            return self._each(node, context, env)
        if name in ("first", "last") and len(args) == 1:
            return self.run(args[0], context, env)
        if name == "limit" and len(args) == 2:
            self.reads.use_whole(self.run(args[0], context, env))
            return self.run(args[1], context, env)
        if name == "has" and len(args) == 1 and _plain_string(args[0]) is not None:
            key = _plain_string(args[0])
            self.reads.use_present(self._field(Node("field", (key,)), context, env))
            return frozenset({NEW})
        if name == "not" and not args:
            self.reads.use_present(context)
            return frozenset({NEW})
        if name in NO_INPUT_FUNCTIONS and not args:
            return frozenset({NEW})
        if name in VALUE_FUNCTIONS:
            self.reads.use_whole(context)
            for arg in args:
                self.reads.use_whole(self.run(arg, context, env))
            return frozenset({NEW})
        raise Unprovable(f"the function {name}/{len(args)} is not analysed")


def _plain_string(node: Node) -> str | None:
    """The text of a string literal without interpolation, else None."""
    if node.op == "string" and all(isinstance(p, str) for p in node.args[0]):
        return "".join(node.args[0])
    if node.op == "literal" and isinstance(node.args[0], str):
        return str(node.args[0])
    return None


def reads_of(expression: str) -> Reads:
    """What ``expression`` needs of its input; raises ``Unprovable``."""
    reads = Reads()
    outputs = Evaluator(reads).run(Parser(expression).parse(), frozenset({()}), {})
    reads.use_whole(outputs)
    return reads
