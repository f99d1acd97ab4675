"""Which kinds failed in the current resync, and a non-zero exit for a failed ONCE run.

port-ocean 0.54.1's ONCE listener logs a failed resync and exits 0; CI pipelines that run
the integration once must see the failure, so a failed run exits with EXIT_RESYNC_FAILED.
"""

from __future__ import annotations

import atexit
import os
import sys

from loguru import logger

EXIT_RESYNC_FAILED = 1
EXIT_BAD_SETTINGS = 2

_failures: dict[str, str] = {}
_exit_code: int | None = None


def reset() -> None:
    _failures.clear()


def record_failure(kind: str, error: BaseException) -> None:
    message = str(error) or type(error).__name__
    _failures[kind] = message
    logger.error(f"Resync of kind '{kind}' failed, nothing of it is deleted: {message}")


def failures() -> dict[str, str]:
    return dict(_failures)


def summary() -> str:
    if not _failures:
        return "resync failed before any kind was fetched (see the errors above)"
    return "; ".join(f"{kind}: {message}" for kind, message in _failures.items())


def _exit_now() -> None:
    if _exit_code is None:
        return
    # Drain loguru's queue (the framework logs with enqueue=True) before leaving.
    logger.remove()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_code)


def exit_with_code_at_shutdown(code: int) -> None:
    """Make the process exit with ``code`` once the framework has shut down."""
    global _exit_code
    if _exit_code is None:
        atexit.register(_exit_now)
    _exit_code = code
