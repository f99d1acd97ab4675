"""The catalog's shared context: store, compiled blueprints, settings and run state."""

from __future__ import annotations

from dataclasses import dataclass, field

from local_stack.catalog.errors import not_found
from local_stack.catalog.state import FaultInjector, LogBuffer, Stats, TokenIssuer
from local_stack.catalog.store import CatalogStore
from local_stack.catalog.validation import CompiledBlueprint, compile_blueprint

MAX_BODY_BYTES = 1024 * 1024  # Port rejects larger bodies with 413


@dataclass(frozen=True)
class Settings:
    client_id: str | None = None  # None: any non-empty clientId is accepted
    client_secret: str | None = None
    feature_flags: tuple[str, ...] = ()
    token_ttl_seconds: int = 3600
    html_page_size: int = 500
    max_body_bytes: int = MAX_BODY_BYTES
    # Whether an upsert that changes nothing still moves updatedAt. Unknown for Port; it
    # decides which entities reconciliation's "updated before the resync" listing returns.
    touch_unchanged: bool = True


@dataclass
class Catalog:
    store: CatalogStore
    settings: Settings
    stats: Stats = field(default_factory=Stats)
    faults: FaultInjector = field(default_factory=FaultInjector)
    logs: LogBuffer = field(default_factory=LogBuffer)
    # Added to every Port API request: a hosted catalog is tens of milliseconds away.
    latency_seconds: float = 0.0
    tokens: TokenIssuer = field(init=False)
    _compiled: dict[str, CompiledBlueprint] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens = TokenIssuer(self.settings.token_ttl_seconds)

    def blueprint(self, identifier: str) -> CompiledBlueprint | None:
        """Compiled once per blueprint version; dropped by ``forget`` on every change."""
        compiled = self._compiled.get(identifier)
        if compiled is None:
            raw = self.store.get_blueprint(identifier)
            if raw is None:
                return None
            compiled = self._compiled[identifier] = compile_blueprint(raw)
        return compiled

    def require_blueprint(self, identifier: str) -> CompiledBlueprint:
        compiled = self.blueprint(identifier)
        if compiled is None:
            raise not_found(f'Blueprint with identifier "{identifier}" was not found')
        return compiled

    def forget(self, identifier: str) -> None:
        self._compiled.pop(identifier, None)

    def reset(self) -> None:
        self.store.reset()
        self._compiled.clear()
        self.stats = Stats()
        self.faults.clear()
        self.logs.records.clear()
