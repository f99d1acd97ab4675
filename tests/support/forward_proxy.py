"""A real forward proxy (proxy.py, from PyPI) on 127.0.0.1, with optional Basic
authentication: plain-HTTP forwarding and CONNECT tunnels, as corporate egress proxies do."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

STARTUP_SECONDS = 30.0
# proxy.py's access log: "127.0.0.1:53608 - CONNECT 127.0.0.1:9 - 0 bytes - 0.64ms" or
# "127.0.0.1:53608 - GET 127.0.0.1:8080/rest/api/2/serverInfo - 200 OK - 512 bytes - 3ms".
_ACCESS = re.compile(r"access_log:\d+ - [\d.:]+ - (?P<method>[A-Z]+) (?P<target>\S+)")


@dataclass
class ForwardProxy:
    host_port: str
    log: Path
    user: str | None = None
    password: str | None = None

    def url(self, *, user: str | None = None, password: str | None = None) -> str:
        """The proxy URL, with its credentials (or the given ones) URL-encoded."""
        user, password = user or self.user, password or self.password
        if user is None:
            return f"http://{self.host_port}"
        return f"http://{quote(user, safe='')}:{quote(password or '', safe='')}@{self.host_port}"

    def requests(self) -> list[tuple[str, str]]:
        """(method, target) of every request the proxy handled, CONNECTs included."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [(m["method"], m["target"]) for m in _ACCESS.finditer(text)]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
        """The access log is written as each connection closes: wait (bounded) for it."""
        deadline = time.monotonic() + timeout
        while len(seen := self.requests()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return seen


@contextmanager
def forward_proxy(
    directory: Path, *, user: str | None = None, password: str | None = None
) -> Iterator[ForwardProxy]:
    directory.mkdir(parents=True, exist_ok=True)
    port_file, log = directory / "proxy.port", directory / "proxy.log"
    command = [
        sys.executable,
        "-m",
        "proxy",
        "--hostname",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--num-acceptors",
        "1",
        "--num-workers",
        "1",
        "--data-dir",
        str(directory / "data"),
        "--log-file",
        str(log),
    ]
    if user is not None:
        command += ["--basic-auth", f"{user}:{password or ''}"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=directory
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"proxy.py did not start: {stderr[-2000:]}")
            time.sleep(0.05)
        port = int(port_file.read_text().strip())
        yield ForwardProxy(f"127.0.0.1:{port}", log, user, password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
