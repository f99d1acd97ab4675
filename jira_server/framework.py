"""Every use of a port-ocean name outside its documented extension points, in one place.

port-ocean 0.54.1 is pinned; an upgrade that renames or changes one of these breaks
``tests/unit/test_framework_contract.py`` with a message naming the name, instead of
changing what a sync does. Public extension points (``BaseIntegration`` and its handler
classes, ``ocean.on_resync``, ``AbstractWebhookProcessor``, the actions executors, the Port
client's public methods) are used directly elsewhere.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger
from port_ocean.core.handlers.entity_processor.jq_entity_processor_sync import (
    JQEntityProcessorSync,
)
from port_ocean.core.handlers.port_app_config.models import ResourceConfig
from port_ocean.core.models import ProcessingMode
from port_ocean.core.ocean_types import RESYNC_RESULT

PINNED_VERSION = "0.54.1"
SUPPORTED_PROCESSING_MODE = ProcessingMode.ocean_core
# Where the framework mounts webhook processors' paths: ``{route_prefix}/integration``.
WEBHOOK_ROUTE_BASE = "/integration"


def format_jq_filter(expression: str) -> str:
    """The framework's rewrite of a mapping expression before jq compiles it (single-quoted
    strings become double-quoted)."""
    formatted: str = JQEntityProcessorSync._format_filter(expression)
    return formatted


def map_item_as_framework(
    item: dict[str, Any], patterns: dict[str, Any], selector_query: str, parse_all: bool
) -> Any:
    """What the framework's pool worker does for one item: a ``MappedEntity``."""
    return JQEntityProcessorSync._get_mapped_entity(item, patterns, selector_query, parse_all)


async def resource_raw_results(
    integration: Any, resource: ResourceConfig, raw_data_examples: int
) -> tuple[RESYNC_RESULT, list[Exception]]:
    """The registered handlers of a resource's kind, wrapped as the framework wraps them
    (itemsToParse, raw data examples, errors collected into an ExceptionGroup at the end),
    without the framework's mapping, comparison and upserts, which the run does itself."""
    results: tuple[RESYNC_RESULT, list[Exception]] = await integration._get_resource_raw_results(
        resource, raw_data_examples
    )
    return results


def webhook_route_path(route_prefix: str, path: str) -> str:
    """The full path of a webhook processor's route, as the framework mounts it."""
    return f"{route_prefix}{WEBHOOK_ROUTE_BASE}{path}"


def resources_dir(config: Any) -> Path:
    """Where the framework reads the default blueprints, mapping and actions it installs
    (``OCEAN__RESOURCES_PATH``, relative to the working directory)."""
    return Path(str(config.resources_path))


def use_resources_dir(config: Any, path: Path) -> None:
    """Make the framework install the defaults of ``path``: it reads ``resources_path``
    after the integration is built (``initialize_defaults`` in ``port_ocean.run``) and joins
    it to ``.``, so an absolute path is used as it is."""
    config.resources_path = str(path.resolve())


def processing_mode(config: Any) -> str:
    return str(getattr(config, "processing_mode", ""))


def redact_every_log_record(redact: Callable[[str], str]) -> None:
    """Mask secrets in every log record, the framework's included, before any handler (the
    console, Port's log ingestion) sees it. port-ocean's own masking keeps the first six
    characters of a secret and knows only the raw form of the sensitive settings; this runs
    first, as part of the patcher the framework installs, which it calls for every record."""
    from port_ocean.log import logger_setup

    framework_patcher = logger_setup._combined_patcher

    def patcher(record: Any) -> None:
        record["message"] = redact(record["message"])
        framework_patcher(record)
        traceback = record["extra"].get("traceback")
        if isinstance(traceback, str):
            record["extra"]["traceback"] = redact(traceback)
        exception = record["exception"]
        if exception is not None and exception.value is not None:
            record["exception"] = exception._replace(value=Exception(redact(str(exception.value))))

    logger.configure(patcher=patcher)


def exit_code_at_shutdown(code_of: Callable[[], int | None]) -> None:
    """Make the process exit with ``code_of()`` (when not None) once the framework has shut
    down: port-ocean 0.54.1's ONCE listener ends every run, failed or not, with exit 0."""

    def leave() -> None:
        code = code_of()
        if code is None:
            return
        # Drain loguru's queue (the framework logs with enqueue=True) before leaving.
        logger.remove()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    atexit.register(leave)
