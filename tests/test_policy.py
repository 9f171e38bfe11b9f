from __future__ import annotations

from modrules.model import Action, Evidence, Violation
from modrules.policy import mask, redact, resolve_action


def violation(action: Action, shadow: bool = False) -> Violation:
    return Violation(rule="r", category="spam", clause=13, action=action, message="m", shadow=shadow)


def test_strongest_enforced_action_wins() -> None:
    order = list(Action)
    assert resolve_action([], order) is Action.PUBLISH
    assert resolve_action([violation(Action.FLAG), violation(Action.HOLD), violation(Action.EDIT)], order) is Action.HOLD
    assert resolve_action([violation(Action.DELETE), violation(Action.FLAG)], order) is Action.DELETE


def test_shadow_violations_never_change_the_action() -> None:
    order = list(Action)
    assert resolve_action([violation(Action.DELETE, shadow=True)], order) is Action.PUBLISH
    assert resolve_action([violation(Action.DELETE, shadow=True), violation(Action.FLAG)], order) is Action.FLAG


def test_custom_precedence() -> None:
    order = [Action.PUBLISH, Action.EDIT, Action.FLAG, Action.HOLD, Action.DELETE]
    assert resolve_action([violation(Action.FLAG), violation(Action.EDIT)], order) is Action.FLAG


def test_mask_keeps_only_the_first_visible_character() -> None:
    assert mask("fuck") == "f***"
    assert mask("bull shit") == "b*** ****"
    assert mask("f*ck") == "f***"
    assert mask("s h i t") == "s * * *"
    assert mask("sh\u200bit") == "s***"


def test_redact_styles_and_overlaps() -> None:
    text = "call me at 555-0100 you shit"
    phone = Evidence(start=11, end=19, text="555-0100")
    swear = Evidence(start=24, end=28, text="shit")
    assert redact(text, [(phone, "[phone removed]"), (swear, "mask")]) == "call me at [phone removed] you s***"
    assert redact(text, [(swear, "remove")]) == "call me at 555-0100 you "
    overlapping = Evidence(start=8, end=15, text="at 555-")
    assert redact(text, [(overlapping, "mask"), (phone, "[x]")]) == "call me [x] you shit"
    assert redact(text, []) == text
