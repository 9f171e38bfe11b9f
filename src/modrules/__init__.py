"""modrules: community standards as YAML rules; explainable verdicts for comments."""

from modrules.engine import Moderator
from modrules.model import (
    CATEGORIES,
    AccountAction,
    Action,
    Comment,
    Evidence,
    Severity,
    SkippedRule,
    Thread,
    Verdict,
    Violation,
)
from modrules.rules import Rule, RuleIssue, Ruleset, RulesetError, load_ruleset

__all__ = [
    "CATEGORIES",
    "AccountAction",
    "Action",
    "Comment",
    "Evidence",
    "Moderator",
    "Rule",
    "RuleIssue",
    "Ruleset",
    "RulesetError",
    "Severity",
    "SkippedRule",
    "Thread",
    "Verdict",
    "Violation",
    "load_ruleset",
]
__version__ = "0.1.0"
