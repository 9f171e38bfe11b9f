"""Loading a ruleset directory: every error names its file, line, rule id and cause."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modrules.checkers.base import CompileContext
from modrules.model import Action, Severity
from modrules.rules.conditions import ConditionError, Node, compile_condition
from modrules.rules.schema import OnUnavailable, PolicySpec, RuleSpec

POLICY_FILE = "policy.yaml"
LISTS_DIR = "lists"


@dataclass(frozen=True)
class RuleIssue:
    """One problem found while loading a ruleset."""

    file: str
    line: int | None
    rule_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{where}:{rule} {self.message}"


class RulesetError(Exception):
    """A ruleset that cannot load; `issues` lists every problem, not just the first."""

    def __init__(self, issues: list[RuleIssue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"{len(issues)} problem(s) in the ruleset:\n{lines}")


@dataclass
class Rule:
    """A compiled rule, ready to evaluate."""

    spec: RuleSpec
    condition: Node
    severity: Severity
    mode: str
    on_unavailable: OnUnavailable
    file: str
    line: int
    unavailable: str | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def action(self) -> Action:
        return self.spec.action

    @property
    def shadow(self) -> bool:
        return self.mode == "shadow"


@dataclass
class Ruleset:
    directory: Path | None
    policy: PolicySpec
    rules: list[Rule]
    context: CompileContext
    files: list[str] = field(default_factory=list)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def default_ruleset_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "default_rules" / "sputnik"


def ml_switched_off() -> bool:
    """Whether `MODRULES_NO_ML` asks this process to run no ML checker."""
    return os.environ.get("MODRULES_NO_ML", "").strip() not in ("", "0")


def load_ruleset(directory: str | Path | None = None, *, disable_ml: bool = False) -> Ruleset:
    """Load and compile a ruleset directory (the default one if None).

    `disable_ml` treats every ML predicate as unavailable (the CLI's `--no-ml`); so
    does the environment variable `MODRULES_NO_ML=1`, for every ruleset a process loads.

    Raises RulesetError listing every problem found.
    """
    root = Path(directory) if directory is not None else default_ruleset_dir()
    if not root.is_dir():
        raise RulesetError([RuleIssue(str(root), None, None, "not a directory")])
    issues: list[RuleIssue] = []
    policy = _load_policy(root, issues)
    context = CompileContext(
        ruleset_dir=root,
        site_name=policy.site.name,
        site_aliases=tuple(policy.site.aliases),
        site_language=policy.site.language,
        regex_timeout=policy.limits.regex_timeout_ms / 1000,
        disable_ml=disable_ml or ml_switched_off(),
        models=_models_section(policy),
    )
    rules: list[Rule] = []
    seen: dict[str, RuleIssue] = {}
    files = _rule_files(root)
    for path in files:
        for rule in _load_rule_file(path, root, policy, context, issues):
            if rule.id in seen:
                first = seen[rule.id]
                issues.append(
                    RuleIssue(rule.file, rule.line, rule.id, f"duplicate rule id (first at {first.file}:{first.line})")
                )
                continue
            seen[rule.id] = RuleIssue(rule.file, rule.line, rule.id, "")
            rules.append(rule)
    if not files and not issues:
        issues.append(RuleIssue(str(root), None, None, "no rule files (*.yaml) found"))
    for rule in rules:
        reason = _unavailable_reason(rule, context)
        if reason is not None:
            rule.unavailable = reason
            if rule.on_unavailable == "error":
                issues.append(RuleIssue(rule.file, rule.line, rule.id, f"cannot run: {reason}"))
    if issues:
        raise RulesetError(issues)
    for resource in context.cache.values():
        # Shared resources that compile as a whole (the pattern prefilter) do it now, once.
        finalize = getattr(resource, "finalize", None)
        if callable(finalize):
            finalize()
    return Ruleset(root, policy, rules, context, [_display(p, root) for p in files])


ML_DISABLED = "ML checkers disabled (--no-ml or MODRULES_NO_ML=1)"


def _models_section(policy: PolicySpec) -> dict[str, Any]:
    section = (policy.model_extra or {}).get("models")
    return dict(section) if isinstance(section, dict) else {}


def _unavailable_reason(rule: Rule, context: CompileContext) -> str | None:
    for predicate in rule.condition.predicates():
        if context.disable_ml and predicate.extra == "ml":
            return ML_DISABLED
        reason = predicate.unavailable_reason()
        if reason is not None:
            return reason
    return None


def _rule_files(root: Path) -> list[Path]:
    found = [
        p
        for pattern in ("*.yaml", "*.yml")
        for p in root.rglob(pattern)
        if p.name != POLICY_FILE and LISTS_DIR not in p.relative_to(root).parts[:-1]
    ]
    return sorted(found)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _load_policy(root: Path, issues: list[RuleIssue]) -> PolicySpec:
    path = root / POLICY_FILE
    if not path.exists():
        return PolicySpec()
    name = _display(path, root)
    try:
        documents = _parse_documents(path)
    except yaml.YAMLError as exc:
        issues.append(RuleIssue(name, _yaml_error_line(exc), None, f"invalid YAML: {_yaml_problem(exc)}"))
        return PolicySpec()
    except _DuplicateKey as exc:
        issues.append(RuleIssue(name, exc.line, None, str(exc)))
        return PolicySpec()
    if not documents:
        return PolicySpec()
    node, data = documents[0]
    try:
        return PolicySpec.model_validate(data if data is not None else {})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = ".".join(str(p) for p in loc)
            issues.append(RuleIssue(name, _line_of(node, loc), None, f"{where}: {error['msg']}"))
        return PolicySpec()


def _load_rule_file(
    path: Path,
    root: Path,
    policy: PolicySpec,
    context: CompileContext,
    issues: list[RuleIssue],
) -> list[Rule]:
    name = _display(path, root)
    try:
        documents = _parse_documents(path)
    except yaml.YAMLError as exc:
        issues.append(RuleIssue(name, _yaml_error_line(exc), None, f"invalid YAML: {_yaml_problem(exc)}"))
        return []
    except _DuplicateKey as exc:
        issues.append(RuleIssue(name, exc.line, exc.rule_id, str(exc)))
        return []
    except UnicodeDecodeError as exc:
        issues.append(RuleIssue(name, None, None, f"not UTF-8: {exc}"))
        return []
    rules: list[Rule] = []
    for node, data in documents:
        if data is None:
            continue  # an empty document, e.g. a trailing `---`
        line = node.start_mark.line + 1
        if not isinstance(data, dict):
            issues.append(RuleIssue(name, line, None, "a rule must be a mapping of fields"))
            continue
        rule_id = data.get("id") if isinstance(data.get("id"), str) else None
        try:
            spec = RuleSpec.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                where = ".".join(str(p) for p in loc)
                message = f"{where}: {error['msg']}" if where else error["msg"]
                issues.append(RuleIssue(name, _line_of(node, loc), rule_id, message))
            continue
        try:
            condition = compile_condition(spec.when, context, ("when",))
        except ConditionError as exc:
            issues.append(RuleIssue(name, _line_of(node, exc.path), spec.id, str(exc)))
            continue
        rules.append(
            Rule(
                spec=spec,
                condition=condition,
                severity=spec.severity or policy.defaults.severity,
                mode=spec.mode or policy.defaults.mode,
                on_unavailable=spec.on_unavailable or policy.defaults.on_unavailable,
                file=name,
                line=line,
            )
        )
    return rules


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.line = line
        self.rule_id: str | None = None


def _parse_documents(path: Path) -> list[tuple[yaml.Node, Any]]:
    """Every YAML document of a file, as (node with line marks, plain data)."""
    with path.open(encoding="utf-8") as stream:
        loader = yaml.SafeLoader(stream)
        try:
            documents: list[tuple[yaml.Node, Any]] = []
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                try:
                    _reject_duplicate_keys(node)
                except _DuplicateKey as exc:
                    exc.rule_id = _scalar_field(node, "id")
                    raise
                documents.append((node, loader.construct_document(node)))
            return documents
        finally:
            loader.dispose()


def _scalar_field(node: yaml.Node, key: str) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, yaml.ScalarNode):
                return str(value_node.value)
    return None


def _reject_duplicate_keys(node: yaml.Node) -> None:
    # PyYAML silently keeps the last of two equal keys; a rule author means neither.
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
            seen.add(key)
            _reject_duplicate_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _reject_duplicate_keys(item)


def _line_of(node: yaml.Node, path: tuple[Any, ...]) -> int:
    """The line of the deepest node the path reaches (1-based)."""
    current = node
    for part in path:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == str(part):
                    child = value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
        if child is None:
            break
        current = child
    return int(current.start_mark.line) + 1


def _yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return int(mark.line) + 1 if mark is not None else None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context}, {problem}" if context else str(problem)
    return str(exc).splitlines()[0]
