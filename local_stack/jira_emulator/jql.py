"""JQL syntax: tokenizer and recursive-descent parser producing a small AST.

Only syntax lives here; field names and values are checked against the data in
:mod:`query`. Error texts follow Jira's parser messages ("Error in the JQL Query: ...
(line 1, character N)"), because clients surface them to users.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "Error in the JQL Query: "
OPERATORS_HELP = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS', 'IS NOT', 'WAS', 'WAS IN', 'WAS NOT', 'WAS NOT IN' and 'CHANGED'."
)
_SYMBOLS = ("!=", "<=", ">=", "!~", "&&", "||", "=", "<", ">", "~", "(", ")", ",", "!", "&", "|")
_WORD_STOP = set(" \t\r\n=!<>~(),\"'&|")
_RESERVED = {"and", "or", "not", "empty", "null", "order", "by", "in", "is", "was", "changed"}


class JqlError(ValueError):
    """Bad JQL: answered with 400 and these messages."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Token:
    kind: str  # "word" | "string" | "sym" | "end"
    text: str
    pos: int  # 1-based character position, as Jira reports it


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool
    pos: int


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class Empty:
    pos: int


Operand = Value | Function | Empty | tuple[Value | Function, ...]


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # "=", "!=", "<", ">", "<=", ">=", "~", "!~", "in", "not in", "is", "is not"
    operand: Operand
    pos: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Clause | And | Or | Not


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool | None  # None: the field's default direction
    pos: int


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[SortKey, ...]


def _where(pos: int) -> str:
    return f"(line 1, character {pos})"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "\"'":
            start, i, chunks = i, i + 1, []
            while i < n and text[i] != char:
                if text[i] == "\\" and i + 1 < n:
                    escaped = text[i + 1]
                    if escaped == "u" and i + 5 < n:
                        chunks.append(chr(int(text[i + 2 : i + 6], 16)))
                        i += 6
                        continue
                    chunks.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
                    i += 2
                    continue
                chunks.append(text[i])
                i += 1
            if i >= n:
                raise JqlError(
                    f"{PREFIX}The quoted string '{''.join(chunks)}' has not been completed. "
                    f"{_where(start + 1)}"
                )
            tokens.append(Token("string", "".join(chunks), start + 1))
            i += 1
            continue
        symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if symbol is not None:
            tokens.append(Token("sym", symbol, i + 1))
            i += len(symbol)
            continue
        start = i
        while i < n and text[i] not in _WORD_STOP:
            i += 1
        tokens.append(Token("word", text[start:i], start + 1))
    tokens.append(Token("end", "", n + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def is_sym(self, *symbols: str) -> bool:
        return self.tok.kind == "sym" and self.tok.text in symbols

    def fail(self, expecting: str, suffix: str = "") -> JqlError:
        if self.tok.kind == "end":
            return JqlError(f"{PREFIX}Expecting {expecting} before the end of the query.{suffix}")
        return JqlError(
            f"{PREFIX}Expecting {expecting} but got '{self.tok.text}'.{suffix} {_where(self.tok.pos)}"
        )

    def parse(self) -> Query:
        where: Node | None = None
        if not (self.is_word("order") or self.tok.kind == "end"):
            where = self.parse_or()
        order: tuple[SortKey, ...] = ()
        if self.is_word("order"):
            self.advance()
            if not self.is_word("by"):
                raise self.fail("'BY'")
            self.advance()
            order = self.parse_order()
        if self.tok.kind != "end":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where, order)

    def parse_order(self) -> tuple[SortKey, ...]:
        keys: list[SortKey] = []
        while True:
            if self.tok.kind not in ("word", "string") or (
                self.tok.kind == "word" and self.tok.text.lower() in _RESERVED
            ):
                raise self.fail("a field name")
            field = self.advance()
            descending: bool | None = None
            if self.is_word("asc", "desc"):
                descending = self.advance().text.lower() == "desc"
            keys.append(SortKey(field.text, descending, field.pos))
            if self.is_sym(","):
                self.advance()
                continue
            if self.tok.kind != "end":
                raise self.fail("either 'ASC', 'DESC' or ','")
            return tuple(keys)

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_word("or") or self.is_sym("||", "|"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while self.is_word("and") or self.is_sym("&&", "&"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> Node:
        if self.is_word("not") or self.is_sym("!"):
            self.advance()
            return Not(self.parse_not())
        if self.is_sym("("):
            self.advance()
            node = self.parse_or()
            if not self.is_sym(")"):
                raise self.fail("')'")
            self.advance()
            return node
        return self.parse_clause()

    def parse_clause(self) -> Clause:
        token = self.tok
        if token.kind == "end":
            raise self.fail("a field name")
        if token.kind == "sym" or (token.kind == "word" and token.text.lower() in _RESERVED):
            raise self.fail(
                "a field name",
                f" You must surround '{token.text}' in quotation marks to use it as a field name.",
            )
        self.advance()
        op = self.parse_operator()
        operand = self.parse_operand(op)
        return Clause(token.text, op, operand, token.pos)

    def parse_operator(self) -> str:
        if self.is_sym("=", "!=", "<", ">", "<=", ">=", "~", "!~"):
            return self.advance().text
        if self.is_word("in"):
            self.advance()
            return "in"
        if self.is_word("not"):
            self.advance()
            if not self.is_word("in"):
                raise self.fail("'IN'")
            self.advance()
            return "not in"
        if self.is_word("is"):
            self.advance()
            if self.is_word("not"):
                self.advance()
                return "is not"
            return "is"
        if self.is_word("was", "changed"):
            return self.advance().text.lower()
        raise self.fail("operator", f" {OPERATORS_HELP}")

    def parse_operand(self, op: str) -> Operand:
        if op in ("in", "not in"):
            if not self.is_sym("("):
                if self.tok.kind == "word" and self.tokens[self.at + 1].text == "(":
                    return self.parse_value()
                raise self.fail("'('")
            self.advance()
            items: list[Value | Function] = []
            while True:
                item = self.parse_value()
                if isinstance(item, Empty):
                    items.append(Value("EMPTY", False, item.pos))
                else:
                    items.append(item)
                if self.is_sym(","):
                    self.advance()
                    continue
                if self.is_sym(")"):
                    self.advance()
                    return tuple(items)
                raise self.fail("')'")
        if op == "changed":
            return Empty(self.tok.pos)
        return self.parse_value()

    def parse_value(self) -> Value | Function | Empty:
        token = self.tok
        if token.kind == "string":
            self.advance()
            return Value(token.text, True, token.pos)
        if token.kind == "word":
            lowered = token.text.lower()
            if lowered in ("empty", "null"):
                self.advance()
                return Empty(token.pos)
            if lowered in _RESERVED:
                raise self.fail(
                    "either a value, list or function",
                    f" You must surround '{token.text}' in quotation marks to use it as a value.",
                )
            self.advance()
            if self.is_sym("("):
                return self.parse_function(token)
            return Value(token.text, False, token.pos)
        raise self.fail("either a value, list or function")

    def parse_function(self, name: Token) -> Function:
        self.advance()  # "("
        args: list[str] = []
        while not self.is_sym(")"):
            if self.tok.kind not in ("word", "string"):
                raise self.fail("')'")
            args.append(self.advance().text)
            if self.is_sym(","):
                self.advance()
        self.advance()
        return Function(name.text, tuple(args), name.pos)


def parse(text: str) -> Query:
    return _Parser(text or "").parse()
