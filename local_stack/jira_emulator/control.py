"""The control API under ``/_emulator/``: no Jira auth, no faults, loopback clients only.

Routes (JSON in, JSON out):

* ``GET /_emulator/health``
* ``GET /_emulator/stats[?searches=false]``, ``POST /_emulator/stats/reset``
* ``GET /_emulator/faults``, ``POST`` (replace: missing knobs take defaults), ``PATCH`` (merge)
* ``GET /_emulator/settings``, ``POST``/``PATCH`` (partial; see config.RUNTIME_SETTINGS)
* ``POST /_emulator/mutate`` with ``{"ops": [...]}`` or a single op (see mutations.py)
* ``POST /_emulator/reset-lockout`` with optional ``{"username": ...}``
* ``GET /_emulator/truth?jql=...&as=<username|anonymous>``: the test oracle
"""

from __future__ import annotations

from collections.abc import Callable

from local_stack.jira_emulator.jql import JqlError
from local_stack.jira_emulator.state import EmulatorState
from local_stack.jira_emulator.store import MutationError
from local_stack.jira_emulator.wire import BadRequest, Request, Response, json_response

PREFIX = "/_emulator"
NOT_AN_OBJECT = "expected a JSON object"
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


def _error(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


class ControlApi:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/health"): lambda req: json_response(self.state.health()),
            ("GET", "/stats"): self.stats,
            ("POST", "/stats/reset"): self.reset_stats,
            ("GET", "/faults"): lambda req: json_response(self.state.faults.config.to_json()),
            ("POST", "/faults"): lambda req: self.faults(req, merge=False),
            ("PATCH", "/faults"): lambda req: self.faults(req, merge=True),
            ("GET", "/settings"): lambda req: json_response(self.state.settings()),
            ("POST", "/settings"): self.settings,
            ("PATCH", "/settings"): self.settings,
            ("POST", "/mutate"): self.mutate,
            ("POST", "/reset-lockout"): self.reset_lockout,
            ("GET", "/truth"): self.truth,
        }

    def handle(self, req: Request) -> Response:
        client = req.scope.get("client")
        if client and client[0] not in LOOPBACK:
            return _error(403, "the control API answers loopback clients only")
        handler = self.routes.get((req.method, req.path.removeprefix(PREFIX)))
        if handler is None:
            return _error(404, f"no control route {req.method} {req.path}")
        try:
            return handler(req)
        except JqlError as exc:
            return json_response({"error": "bad JQL", "errorMessages": exc.messages}, 400)
        except (BadRequest, MutationError, ValueError, TypeError) as exc:
            return _error(400, str(exc))

    def stats(self, req: Request) -> Response:
        body = self.state.stats.to_json(searches=req.bool_param("searches", True))
        body["dataVersion"] = self.state.store.version
        body["queryCache"] = {
            "hits": self.state.engine.cache_hits,
            "misses": self.state.engine.cache_misses,
        }
        body["auth"] = {
            "failures": dict(self.state.auth.failures),
            "locked": [n for n in self.state.auth.failures if self.state.auth.locked(n)],
            "denied": self.state.auth.denied,
        }
        return json_response(body)

    def reset_stats(self, req: Request) -> Response:
        self.state.reset_stats()
        return json_response({"reset": True})

    def faults(self, req: Request, *, merge: bool) -> Response:
        return json_response(
            self.state.set_faults(req.json_object(NOT_AN_OBJECT), merge=merge).to_json()
        )

    def settings(self, req: Request) -> Response:
        return json_response(self.state.update_settings(req.json_object(NOT_AN_OBJECT)))

    def mutate(self, req: Request) -> Response:
        body = req.json()
        ops = body.get("ops") if isinstance(body, dict) and "ops" in body else [body]
        if not isinstance(ops, list):
            raise BadRequest("'ops' must be a list")
        return json_response(self.state.mutate(ops))

    def reset_lockout(self, req: Request) -> Response:
        body = req.json_object(NOT_AN_OBJECT)
        username = body.get("username")
        self.state.reset_lockout(str(username) if username else None)
        return json_response({"reset": username or "all"})

    def truth(self, req: Request) -> Response:
        return json_response(self.state.truth(req.param("jql") or "", req.param("as")))
