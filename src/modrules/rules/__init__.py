"""Rules: the YAML schema, loading with located errors, and compiled condition trees."""

from modrules.rules.loader import (
    Rule,
    RuleIssue,
    Ruleset,
    RulesetError,
    default_ruleset_dir,
    load_ruleset,
)
from modrules.rules.schema import PolicySpec, RuleSpec

__all__ = [
    "PolicySpec",
    "Rule",
    "RuleIssue",
    "RuleSpec",
    "Ruleset",
    "RulesetError",
    "default_ruleset_dir",
    "load_ruleset",
]
