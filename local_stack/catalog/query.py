"""Port's search query language, compiled to a parameterised SQLite WHERE clause.

Supported: nested ``{"combinator": "and"|"or", "rules": [...]}``; meta fields ``$identifier``,
``$title``, ``$blueprint``, ``$datasource``, ``$icon``, ``$createdAt``, ``$updatedAt``,
``$createdBy``, ``$updatedBy``; any other name is a property. Operators: ``=``, ``!=``,
``>``, ``>=``, ``<``, ``<=``, ``in``, ``notIn``, ``contains``, ``doesNotContains``,
``containsAny``, ``beginsWith``, ``doesNotBeginsWith``, ``endsWith``, ``doesNotEndsWith``,
``isEmpty``, ``isNotEmpty``, ``between``, ``notBetween``, ``relatedTo``. The ``contains``
family is case-insensitive, everything else exact. Anything else raises ``QueryError`` so a
gap shows up as a 422 instead of a silently wrong answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from local_stack.catalog.timeutil import now_us, parse_iso_us
from local_stack.catalog.validation import PROPERTY_NAME_RE as _PROPERTY_NAME_RE

_META_COLUMNS = {
    "$identifier": "e.identifier",
    "$title": "e.title",
    "$blueprint": "e.blueprint",
    "$datasource": "e.datasource",
    "$icon": "e.icon",
    "$createdBy": "e.created_by",
    "$updatedBy": "e.updated_by",
}
_TIME_COLUMNS = {"$createdAt": "e.created_at", "$updatedAt": "e.updated_at"}
_PRESET_DAYS = {
    "lastDay": 1,
    "lastWeek": 7,
    "last2Weeks": 14,
    "lastMonth": 30,
    "last3Months": 90,
    "last6Months": 180,
    "last12Months": 365,
    "last2Years": 730,
    "last3Years": 1095,
}


class QueryError(ValueError):
    """The query uses something this catalog does not implement or is malformed."""


class _Compiler:
    def __init__(self) -> None:
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def node(self, node: Any) -> str:
        if not isinstance(node, dict):
            raise QueryError("every rule must be an object")
        if "combinator" in node or "rules" in node:
            return self.group(node)
        return self.rule(node)

    def group(self, node: dict[str, Any]) -> str:
        combinator = node.get("combinator", "and")
        if combinator not in ("and", "or"):
            raise QueryError(f'combinator must be "and" or "or", got {combinator!r}')
        rules = node.get("rules")
        if not isinstance(rules, list):
            raise QueryError('"rules" must be an array')
        if not rules:
            return "1" if combinator == "and" else "0"
        joiner = " AND " if combinator == "and" else " OR "
        return "(" + joiner.join(self.node(rule) for rule in rules) + ")"

    def rule(self, rule: dict[str, Any]) -> str:
        operator = rule.get("operator")
        if operator == "relatedTo":
            return self.related_to(rule)
        prop = rule.get("property")
        if not isinstance(prop, str):
            raise QueryError(f"rule needs a string property: {rule}")
        value = rule.get("value")
        if prop in _TIME_COLUMNS:
            return self.time_rule(_TIME_COLUMNS[prop], str(operator), value)
        if prop in _META_COLUMNS:
            return self.scalar_rule(_META_COLUMNS[prop], None, str(operator), value)
        if prop.startswith("$"):
            raise QueryError(f"unsupported meta property {prop}")
        if not _PROPERTY_NAME_RE.match(prop):
            raise QueryError(f"invalid property name {prop!r}")
        # The name is restricted to [A-Za-z0-9@_=-], so the JSON path can be a SQL literal:
        # placeholders must appear in the SQL in the order their params were added.
        path = f"'$.\"{prop}\"'"
        return self.scalar_rule(f"json_extract(e.properties, {path})", path, operator, value)

    def scalar_rule(self, col: str, json_path: str | None, operator: Any, value: Any) -> str:
        # JSON booleans come back from json_extract as 1/0.
        def p(v: Any) -> str:
            return self.param(int(v) if isinstance(v, bool) else v)

        match operator:
            case "=":
                return f"{col} IS NULL" if value is None else f"{col} = {p(value)}"
            case "!=":
                return (
                    f"{col} IS NOT NULL"
                    if value is None
                    else f"({col} IS NULL OR {col} != {p(value)})"
                )
            case ">" | ">=" | "<" | "<=":
                return f"{col} {operator} {p(value)}"
            case "in" | "notIn":
                values = self.as_list(value, operator)
                if not values:
                    return "0" if operator == "in" else "1"
                marks = ",".join(p(v) for v in values)
                return (
                    f"{col} IN ({marks})"
                    if operator == "in"
                    else f"({col} IS NULL OR {col} NOT IN ({marks}))"
                )
            case "contains" | "doesNotContains":
                test = self.contains(col, json_path, [value])
                return test if operator == "contains" else f"NOT {test}"
            case "containsAny":
                return self.contains(col, json_path, self.as_list(value, operator))
            case "beginsWith" | "doesNotBeginsWith":
                test = f"(substr({col}, 1, length({p(value)})) = {p(value)})"
                return test if operator == "beginsWith" else f"NOT coalesce({test}, 0)"
            case "endsWith" | "doesNotEndsWith":
                test = f"(length({col}) >= length({p(value)}) AND substr({col}, -length({p(value)})) = {p(value)})"
                return test if operator == "endsWith" else f"NOT coalesce({test}, 0)"
            case "isEmpty" | "isNotEmpty":
                empty = f"({col} IS NULL OR {col} = '' OR {col} = '[]' OR {col} = '{{}}')"
                return empty if operator == "isEmpty" else f"NOT {empty}"
            case "between" | "notBetween":
                low, high = self.range(value)
                test = f"({col} >= {p(low)} AND {col} <= {p(high)})"
                return test if operator == "between" else f"NOT coalesce({test}, 0)"
            case _:
                raise QueryError(f"unsupported operator {operator!r}")

    def contains(self, col: str, json_path: str | None, needles: list[Any]) -> str:
        if not needles:
            return "0"
        if json_path is None:
            return f"coalesce(({self.text_tests(col, needles)}), 0)"
        # An array property: "contains" means one element equals a needle. Params are
        # added in the order their placeholders appear in the SQL.
        marks = ",".join(self.param(n) for n in needles)
        array_test = (
            f"EXISTS (SELECT 1 FROM json_each(e.properties, {json_path}) j "
            f"WHERE j.value IN ({marks}))"
        )
        return (
            f"(CASE WHEN json_type(e.properties, {json_path}) = 'array' THEN {array_test} "
            f"ELSE coalesce(({self.text_tests(col, needles)}), 0) END)"
        )

    def text_tests(self, col: str, needles: list[Any]) -> str:
        return " OR ".join(f"instr(lower({col}), lower({self.param(str(n))})) > 0" for n in needles)

    def time_rule(self, col: str, operator: str, value: Any) -> str:
        if operator in ("between", "notBetween") or (operator == "=" and isinstance(value, dict)):
            low, high = self.range(value)
            test = f"({col} >= {self.param(parse_iso_us(low))} AND {col} <= {self.param(parse_iso_us(high))})"
            return f"NOT {test}" if operator == "notBetween" else test
        if operator in (">", ">=", "<", "<=", "=", "!="):
            if not isinstance(value, str):
                raise QueryError(f"{operator} on a date needs an ISO date-time string")
            try:
                micros = parse_iso_us(value)
            except ValueError as exc:
                raise QueryError(f"invalid date-time {value!r}") from exc
            return f"{col} {operator} {self.param(micros)}"
        raise QueryError(f"unsupported operator {operator!r} for a date")

    def range(self, value: Any) -> tuple[str, str]:
        if isinstance(value, dict) and "from" in value and "to" in value:
            return str(value["from"]), str(value["to"])
        if isinstance(value, dict) and value.get("preset") in _PRESET_DAYS:
            now = datetime.fromtimestamp(now_us() / 1_000_000, tz=UTC)
            start = now - timedelta(days=_PRESET_DAYS[str(value["preset"])])
            return start.isoformat(), now.isoformat()
        raise QueryError(f"unsupported date range {value!r}")

    def related_to(self, rule: dict[str, Any]) -> str:
        blueprint = rule.get("blueprint")
        if not isinstance(blueprint, str):
            raise QueryError('relatedTo needs "blueprint"')
        ids = self.as_list(rule.get("value"), "relatedTo")
        if not ids:
            return "0"
        direction = rule.get("direction")
        # upstream: entities the given entity points to; downstream: entities pointing at it.
        upstream = (
            "EXISTS (SELECT 1 FROM relation_edges r WHERE r.src_bp = {bp} AND r.src_id IN ({ids}) "
            "AND r.dst_bp = e.blueprint AND r.dst_id = e.identifier)"
        )
        downstream = (
            "EXISTS (SELECT 1 FROM relation_edges r WHERE r.dst_bp = {bp} AND r.dst_id IN ({ids}) "
            "AND r.src_bp = e.blueprint AND r.src_id = e.identifier)"
        )

        def fill(template: str) -> str:
            return template.format(
                bp=self.param(blueprint), ids=",".join(self.param(i) for i in ids)
            )

        if direction == "upstream":
            return fill(upstream)
        if direction == "downstream":
            return fill(downstream)
        if direction is None:
            return f"({fill(upstream)} OR {fill(downstream)})"
        raise QueryError(f"unsupported relatedTo direction {direction!r}")

    @staticmethod
    def as_list(value: Any, operator: str) -> list[Any]:
        if isinstance(value, list):
            return value
        if isinstance(value, str | int | float):
            return [value]
        raise QueryError(f"{operator} needs a value or an array of values")


def compile_query(query: Any) -> tuple[str, list[Any]]:
    """Return (where_sql, params) for ``SELECT ... FROM entities e WHERE <where_sql>``."""
    if not isinstance(query, dict) or "rules" not in query:
        raise QueryError('the query must be an object with "combinator" and "rules"')
    compiler = _Compiler()
    sql = compiler.group(query)
    return sql, compiler.params


def referenced_blueprints(query: Any) -> set[str]:
    """Blueprints named by ``$blueprint`` ``=``/``in`` rules (for ``matchingBlueprints``)."""
    found: set[str] = set()
    if isinstance(query, dict):
        if query.get("property") == "$blueprint" and query.get("operator") in ("=", "in"):
            value = query.get("value")
            found.update(str(v) for v in (value if isinstance(value, list) else [value]))
        for rule in query.get("rules") or []:
            found |= referenced_blueprints(rule)
    return found
