"""Start a local-stack server as a child process on 127.0.0.1 and wait until it listens.

Each server module has a ``__main__`` that accepts ``--port-file PATH``: it binds port 0 on
127.0.0.1 and writes the chosen port there once it is ready, so parallel test runs never
collide on a fixed port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_TIMEOUT_SECONDS = 30.0


@dataclass
class RunningServer:
    """A child server process and the base URL it answers on."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _stopped: bool = field(default=False, init=False)

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_server(
    name: str,
    module: str,
    args: list[str],
    *,
    log_dir: Path | None = None,
    env: dict[str, str] | None = None,
    health_path: str = "/",
) -> RunningServer:
    """Run ``python -m module --port-file F *args`` and return once it answers HTTP."""
    work_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"{name}-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    port_file = work_dir / f"{name}.port"
    port_file.unlink(missing_ok=True)
    log_path = work_dir / f"{name}.log"
    repo_root = Path(__file__).resolve().parent.parent
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(repo_root), child_env.get("PYTHONPATH", "")) if p
    )
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port-file", str(port_file), *args],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=repo_root,
            env=child_env,
        )
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with code {process.returncode} before it was ready:\n"
                f"{log_path.read_text(errors='replace')[-4000:]}"
            )
        if port_file.exists() and port_file.read_text().strip():
            url = f"http://127.0.0.1:{int(port_file.read_text().strip())}"
            try:
                httpx.get(url + health_path, timeout=2.0)
                return RunningServer(name=name, url=url, process=process, log_path=log_path)
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{name} did not start listening within {READY_TIMEOUT_SECONDS:.0f}s")


def serve_on_loopback(app: object, port_file: str | None, port: int = 0) -> None:
    """Serve an ASGI app with uvicorn on 127.0.0.1; write the bound port to ``port_file``."""
    import socket

    import uvicorn

    # IPPROTO_TCP lets asyncio set TCP_NODELAY on accepted sockets; without it Nagle adds
    # ~40 ms to every keep-alive response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    if port_file:
        # Written before serving: start_server still polls until HTTP answers.
        Path(port_file).write_text(str(bound_port))
    else:
        print(f"listening on http://127.0.0.1:{bound_port}", flush=True)
    server.run(sockets=[sock])
