"""The HTTP service behind `modrules serve` (needs the `modrules[server]` extra)."""

from modrules.server.app import create_app
from modrules.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
