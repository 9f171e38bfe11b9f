"""Checker predicates. Every module in this package registers its predicates on import."""

from __future__ import annotations

import importlib
import pkgutil

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    PredicateError,
    Span,
    register,
    registry,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "CompileContext",
    "Document",
    "Hit",
    "Predicate",
    "PredicateConfig",
    "PredicateError",
    "Span",
    "register",
    "registry",
]
