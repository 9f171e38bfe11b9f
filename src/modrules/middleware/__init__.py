"""Forum integration: WSGI and ASGI middleware, and Django, Flask and FastAPI adapters.

The framework modules import their framework; import them by name:
`modrules.middleware.wsgi`, `.asgi`, `.django`, `.flask`, `.fastapi`.
"""

from modrules.middleware.config import (
    BodyExtractor,
    CallableExtractor,
    ExtractionError,
    Extractor,
    FieldMap,
    FormExtractor,
    JsonExtractor,
    ModerationConfig,
    RequestInfo,
    Route,
)
from modrules.middleware.core import Decision, Guard, reject_body
from modrules.middleware.judge import Judge, Revision

__all__ = [
    "BodyExtractor",
    "CallableExtractor",
    "Decision",
    "ExtractionError",
    "Extractor",
    "FieldMap",
    "FormExtractor",
    "Guard",
    "JsonExtractor",
    "Judge",
    "ModerationConfig",
    "RequestInfo",
    "Revision",
    "Route",
    "reject_body",
]
