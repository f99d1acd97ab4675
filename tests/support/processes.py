"""Stopping the long-running ``ocean sail`` processes that end-to-end tests start."""

from __future__ import annotations

import signal
import subprocess


def stop_sail(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGINT (the framework shuts down cleanly), a bounded wait, then kill."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
