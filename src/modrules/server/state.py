"""What every route of the service shares: the loaded Moderator, the store, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from modrules.engine import Moderator
from modrules.server.metrics import Metrics
from modrules.server.settings import ServerSettings
from modrules.store.base import Store


@dataclass
class ServiceState:
    moderator: Moderator
    store: Store
    settings: ServerSettings
    store_url: str | None = None
    metrics: Metrics = field(default_factory=Metrics)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
