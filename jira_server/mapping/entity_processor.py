"""Maps raw items with one jq program per mapping instead of one per expression.

port-ocean 0.54.1's ``JQEntityProcessor`` evaluates every expression of a mapping on its own
(each call serialises the whole item again) and sends every item to a freshly forked process
pool as a task of its own. For the default issue mapping (20 expressions) that is ~0.8 ms of
jq per issue plus the pool's per-task overhead: most of a large sync's time.

Here the mapping's compileable expressions are joined into one program that builds the
selector's verdict and the whole entity, so an item is serialised and walked once (~0.14 ms
per issue, in this process, returning to the event loop every 20 ms). The results stay the
framework's: an item for which the joint program raises, or whose selector is not a single
boolean, is mapped again by the framework's own per-expression code, so its warnings, ``None``
values and errors are Ocean's. Expressions that do not compile alone still take Ocean's path.
One difference: Ocean reports a selector that is not a boolean twice per item, this once.

Faster still, a mapping whose every expression is in the part of jq that
``jira_server.mapping.pyjq`` models is evaluated in Python (~25 µs per issue). An item it
cannot reproduce exactly (``Unsupported``) is mapped by the joint program; an item for which
jq would raise is mapped by Ocean's code, as above.
"""

import asyncio
import json
import os
import time
from collections.abc import Callable
from typing import Any

import jq
from loguru import logger
from port_ocean.context.ocean import ocean
from port_ocean.core.handlers.entity_processor.jq_entity_processor import JQEntityProcessor
from port_ocean.core.handlers.entity_processor.models import MappedEntity
from port_ocean.core.ocean_types import RAW_ITEM

from jira_server.framework import format_jq_filter, map_item_as_framework
from jira_server.mapping import pyjq

# Longest stretch of mapping between returns to the event loop (webhooks, Jira prefetch).
MAX_BLOCKING_SECONDS = 0.02

# Ocean's prefix when mappings may not read the environment (config.yaml's
# allowEnvironmentVariablesJqAccess): `env` and `$ENV` are empty.
NO_ENV_PREFIX = "def env: {}; {} as $ENV | "

ItemResult = tuple[list[MappedEntity], list[Exception]]


def first_output(expression: str) -> str:
    """jq for "the expression's first output, or null when it has none": Ocean's
    ``next(iter(...), None)``. The newline ends a trailing ``# comment`` in the expression."""
    return f"[first(({format_jq_filter(expression)}\n))][0]"


def object_program(patterns: dict[str, Any]) -> str:
    """A jq object with the mapping's shape; every leaf is a first-output expression."""
    members = ", ".join(
        f"{json.dumps(key)}: "
        + (object_program(value) if isinstance(value, dict) else first_output(value))
        for key, value in patterns.items()
    )
    return "{" + members + "}"


def joint_program_text(patterns: dict[str, Any], selector_query: str, env_access: bool) -> str:
    """``[[selector outputs, at most one], entity]`` for one item."""
    selector = f"[first(({format_jq_filter(selector_query)}\n))]"
    program = f"[{selector}, {object_program(patterns)}]"
    return program if env_access else NO_ENV_PREFIX + program


def has_expressions(patterns: dict[str, Any]) -> bool:
    return any(
        has_expressions(value) if isinstance(value, dict) else True for value in patterns.values()
    )


def missing_values(
    patterns: dict[str, Any], entity: dict[str, Any], path: str = ""
) -> dict[str, str]:
    """Ocean's misconfigurations: dotted path -> expression, for every leaf that gave null."""
    found: dict[str, str] = {}
    for key, expression in patterns.items():
        where = f"{path}.{key}" if path else key
        if isinstance(expression, dict):
            found |= missing_values(expression, entity[key], where)
        elif entity[key] is None:
            found[where] = expression
    return found


Leaf = tuple[tuple[str, ...], Callable[[Any], Any]]


class PythonMapping:
    """A mapping evaluated by pyjq: the selector's verdict and the entity of one item."""

    def __init__(
        self, patterns: dict[str, Any], selector_query: str, environment: dict[str, Any]
    ) -> None:
        """Raises ``pyjq.Unsupported`` when an expression is outside the modelled part."""
        self.selector = self._first(selector_query, environment)
        self.leaves: list[Leaf] = []
        self._collect(patterns, (), environment)

    @staticmethod
    def _first(expression: str, environment: dict[str, Any]) -> Callable[[Any], Any]:
        compiled = pyjq.compile_expression(format_jq_filter(expression), environment)

        def first(item: Any) -> Any:
            return pyjq.as_jq_returns(pyjq.first_output(compiled, item))

        return first

    def _collect(
        self, patterns: dict[str, Any], path: tuple[str, ...], environment: dict[str, Any]
    ) -> None:
        for key, value in patterns.items():
            if isinstance(value, dict):
                self._collect(value, (*path, key), environment)
            else:
                self.leaves.append(((*path, key), self._first(value, environment)))

    def verdict(self, item: Any) -> Any:
        """The selector's first output (None when it has none)."""
        return self.selector(item)

    def entity(self, item: Any, patterns: dict[str, Any]) -> dict[str, Any]:
        entity = _skeleton(patterns)
        for path, first in self.leaves:
            target = entity
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = first(item)
        return entity


def _skeleton(patterns: dict[str, Any]) -> dict[str, Any]:
    return {k: _skeleton(v) if isinstance(v, dict) else None for k, v in patterns.items()}


class JointProgramEntityProcessor(JQEntityProcessor):
    """Ocean's JQ entity processor, with its per-item work done by one program per mapping."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._programs: dict[str, Any] = {}
        self._python: dict[str, PythonMapping | None] = {}
        # How items were mapped (tests read it): by Ocean's own code because neither faster
        # path could, and in Python.
        self.items_mapped_by_framework = 0
        self.items_mapped_in_python = 0

    def _python_mapping(
        self, patterns: dict[str, Any], selector_query: str
    ) -> PythonMapping | None:
        env_access = ocean.config.allow_environment_variables_jq_access
        key = json.dumps([patterns, selector_query, env_access], sort_keys=True)
        if key not in self._python:
            environment = dict(os.environ) if env_access else {}
            try:
                self._python[key] = PythonMapping(patterns, selector_query, environment)
            except pyjq.Unsupported:
                self._python[key] = None
        return self._python[key]

    def _joint_program(self, patterns: dict[str, Any], selector_query: str) -> Any | None:
        text = joint_program_text(
            patterns, selector_query, ocean.config.allow_environment_variables_jq_access
        )
        if text not in self._programs:
            try:
                self._programs[text] = jq.compile(text)
            except ValueError:
                # Expressions that compile alone but not together: Ocean's path for all.
                self._programs[text] = None
        return self._programs[text]

    async def parse_items_sync(
        self,
        compileable_patterns: dict[str, Any],
        raw_results: list[RAW_ITEM],
        selector_query: str,
        parse_all: bool = False,
    ) -> tuple[list[ItemResult], list[Exception]]:
        program = self._joint_program(compileable_patterns, selector_query)
        if program is None:
            return await super().parse_items_sync(
                compileable_patterns, raw_results, selector_query, parse_all
            )
        python = self._python_mapping(compileable_patterns, selector_query)
        results: list[ItemResult] = []
        fallbacks_before = self.items_mapped_by_framework
        stretch_start = time.monotonic()
        for item in raw_results:
            results.append(
                self._map_item(
                    python, program, compileable_patterns, item, selector_query, parse_all
                )
            )
            if time.monotonic() - stretch_start > MAX_BLOCKING_SECONDS:
                await asyncio.sleep(0)
                stretch_start = time.monotonic()
        if fallbacks := self.items_mapped_by_framework - fallbacks_before:
            logger.debug(
                f"{fallbacks} of {len(raw_results)} items were mapped expression by expression "
                "(an expression raised or the selector is not a boolean)"
            )
        return results, []

    async def parse_items_async(
        self,
        uncompiled_patterns: dict[str, Any],
        raw_results: list[RAW_ITEM],
        selector_query: str,
        parse_all: bool = False,
    ) -> tuple[list[ItemResult], list[Exception]]:
        # Ocean splits nested mappings into compileable and not; a mapping whose expressions
        # all compile leaves {"properties": {}, "relations": {}} here, which Ocean would
        # still evaluate item by item (selector included) to merge nothing.
        if not has_expressions(uncompiled_patterns):
            return [], []
        return await super().parse_items_async(
            uncompiled_patterns, raw_results, selector_query, parse_all
        )

    def _map_item(
        self,
        python: PythonMapping | None,
        program: Any,
        patterns: dict[str, Any],
        item: RAW_ITEM,
        selector_query: str,
        parse_all: bool,
    ) -> ItemResult:
        if python is not None:
            try:
                return self._map_item_in_python(python, patterns, item, selector_query, parse_all)
            except pyjq.Unsupported:
                pass  # the joint program decides
            except pyjq.JqError:
                return self._map_item_as_framework(patterns, item, selector_query, parse_all)
        try:
            verdict, entity = program.input_value(item).first()
        except Exception:  # an expression raised, or the item is not plain JSON
            return self._map_item_as_framework(patterns, item, selector_query, parse_all)
        if len(verdict) != 1 or not isinstance(verdict[0], bool):
            return self._map_item_as_framework(patterns, item, selector_query, parse_all)
        passed: bool = verdict[0]
        if not (parse_all or passed):
            return [MappedEntity()], []
        return [
            MappedEntity(
                entity=entity,
                did_entity_pass_selector=passed,
                misconfigurations=missing_values(patterns, entity),
            )
        ], []

    def _map_item_in_python(
        self,
        python: PythonMapping,
        patterns: dict[str, Any],
        item: RAW_ITEM,
        selector_query: str,
        parse_all: bool,
    ) -> ItemResult:
        passed = python.verdict(item)
        if not isinstance(passed, bool):  # Ocean's messages for a selector that is not one
            return self._map_item_as_framework(patterns, item, selector_query, parse_all)
        if not (parse_all or passed):
            # Ocean does not evaluate the mapping of an item its selector leaves out.
            self.items_mapped_in_python += 1
            return [MappedEntity()], []
        entity = python.entity(item, patterns)
        self.items_mapped_in_python += 1
        return [
            MappedEntity(
                entity=entity,
                did_entity_pass_selector=passed,
                misconfigurations=missing_values(patterns, entity),
            )
        ], []

    def _map_item_as_framework(
        self, patterns: dict[str, Any], item: RAW_ITEM, selector_query: str, parse_all: bool
    ) -> ItemResult:
        """What Ocean's pool worker does for one item (jq_entity_processor._calculate_entity)."""
        self.items_mapped_by_framework += 1
        try:
            return [map_item_as_framework(item, patterns, selector_query, parse_all)], []
        except Exception as exc:
            return [], [exc]
