"""The review page in a real headless Chromium (Playwright driving /usr/bin/chromium)
against a real uvicorn server: sign in, see held comments with highlighted evidence,
approve, block and restore, and see the store change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from modrules import Moderator, load_ruleset
from modrules.server import ServerSettings, create_app
from modrules.store import AccountStatus, MemoryStore
from tests.test_server import LiveServer

TOKEN = "review-token-456"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> you are an idiot'


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, MemoryStore]]:
    store = MemoryStore()
    moderator = Moderator(load_ruleset(None, disable_ml=True), store=store)
    with LiveServer(create_app(moderator, store, ServerSettings(token=TOKEN))) as server:
        yield server.url, store


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        yield context
        context.close()


def moderate(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/v1/moderate", json=body, timeout=30)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def signed_in(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(f"{url}/review")
    if page.locator("form[action='/review/login']").count():
        page.fill("input[name=moderator]", "Rita")
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("#queue-count")
    return page


def test_a_wrong_token_does_not_sign_in(service: tuple[str, MemoryStore], browser: BrowserContext) -> None:
    url, _ = service
    page = browser.new_page()
    page.goto(f"{url}/review")
    page.fill("input[name=moderator]", "Mallory")
    page.fill("input[name=token]", "guess")
    page.click("button[type=submit]")
    assert "not right" in page.inner_text(".error")
    assert page.locator("#queue-count").count() == 0
    page.close()


def test_held_comment_shows_highlighted_evidence_and_approving_changes_the_store(
    service: tuple[str, MemoryStore], browser: BrowserContext
) -> None:
    url, store = service
    verdict = moderate(
        url,
        {
            "comment": {"id": "held-1", "author_id": "troll", "text": "Honestly, you are an idiot for writing this."},
            "thread": {"id": "t1", "title": "Parliament votes on the budget"},
        },
    )
    assert verdict["action"] == "hold"
    page = signed_in(browser, url)
    item = page.locator("article[data-comment-id='held-1']")
    assert item.locator("mark").first.inner_text() == "you are an idiot"
    assert "Parliament votes on the budget" in item.inner_text()
    assert "insult-second-person" in item.locator("table.violations").inner_text()
    assert "1 strike" in item.locator("details.author summary").inner_text()

    item.locator("button.approve").click()
    page.wait_for_selector("#notice")
    assert page.locator("article[data-comment-id='held-1']").count() == 0
    decided = store.get_review("held-1")
    assert decided is not None and decided.status == "approved" and decided.decided_by == "Rita"
    page.close()


def test_hostile_html_is_shown_as_text_never_run(service: tuple[str, MemoryStore], browser: BrowserContext) -> None:
    url, _ = service
    assert moderate(url, {"id": "hostile-1", "author_id": "x1", "text": HOSTILE})["action"] == "hold"
    page = signed_in(browser, url)
    item = page.locator("article[data-comment-id='hostile-1']")
    assert item.locator("p.text").inner_text() == HOSTILE
    assert item.locator("p.text script, p.text img").count() == 0
    assert page.evaluate("window.pwned") is None
    page.close()


def test_block_and_restore_the_author_from_the_page(service: tuple[str, MemoryStore], browser: BrowserContext) -> None:
    url, store = service
    moderate(url, {"id": "held-2", "author_id": "repeat", "text": "you are an idiot"})
    page = signed_in(browser, url)
    page.on("dialog", lambda dialog: dialog.accept("abusive replies"))
    page.locator("article[data-comment-id='held-2'] button.block").click()
    page.wait_for_selector("#notice")
    account = store.get_account("repeat")
    assert account.status is AccountStatus.BLOCKED
    assert [e.reason for e in store.audit_log("repeat") if e.kind == "block"] == ["abusive replies"]

    page.locator("section.blocked button.restore").first.click()
    page.wait_for_selector("#notice")
    assert "restored repeat" in page.inner_text("#notice")
    assert store.get_account("repeat").status is AccountStatus.ACTIVE
    restore = [e for e in store.audit_log("repeat") if e.kind == "restore"][-1]
    assert restore.actor == "Rita" and restore.reason == "abusive replies"
    page.close()


HOSTILE_IDS = [
    ("a/b/../c?x=1#top", "team/red blue%2F&x=1"),
    ("..", "./..\\ü 'q\" <b>"),
]


@pytest.mark.parametrize(("comment_id", "author_id"), HOSTILE_IDS)
def test_url_hostile_ids_can_be_acted_on(
    service: tuple[str, MemoryStore], browser: BrowserContext, comment_id: str, author_id: str
) -> None:
    url, store = service
    assert moderate(url, {"id": comment_id, "author_id": author_id, "text": "you are an idiot"})["action"] == "hold"
    page = signed_in(browser, url)
    page.on("dialog", lambda dialog: dialog.accept("testing odd ids"))
    items = page.locator("article.item").filter(has=page.locator("code", has_text=comment_id))
    item = items.filter(has_text=author_id).first
    item.locator("button.block").click()
    page.wait_for_selector("#notice")
    assert store.get_account(author_id).status is AccountStatus.BLOCKED
    page.locator("section.blocked li", has_text=author_id).locator("button.restore").click()
    page.wait_for_selector("#notice")
    assert store.get_account(author_id).status is AccountStatus.ACTIVE
    page.locator("article.item").filter(has_text=author_id).first.locator("button.approve").click()
    page.wait_for_selector("#notice")
    decided = store.get_review(comment_id)
    assert decided is not None and decided.status == "approved" and decided.decided_by == "Rita"
    page.close()


def test_actions_need_the_cookie_and_the_csrf_token(service: tuple[str, MemoryStore]) -> None:
    url, store = service
    moderate(url, {"id": "held-3", "text": "you are an idiot"})
    assert httpx.post(f"{url}/review/comments/approve", data={"csrf": "x", "comment_id": "held-3"}).status_code == 401
    with httpx.Client(base_url=url) as client:
        login = client.post("/review/login", data={"moderator": "Sam", "token": TOKEN})
        assert login.status_code == 303 and "samesite=strict" in login.headers["set-cookie"].lower()
        assert "httponly" in login.headers["set-cookie"].lower()
        client.cookies.set("modrules_review", login.cookies["modrules_review"], path="/")
        assert client.post("/review/comments/approve", data={"csrf": "forged", "comment_id": "held-3"}).status_code == 401
    item = store.get_review("held-3")
    assert item is not None and item.status == "pending"
    page = httpx.get(f"{url}/review")
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_static_files_are_served(service: tuple[str, MemoryStore]) -> None:
    url, _ = service
    assert "confirm" in httpx.get(f"{url}/review/static/review.js").text
    assert Path(__file__).parent.parent.joinpath("src/modrules/server/static/review.css").is_file()



def test_highlight_pieces_merge_overlaps_and_cut_long_text() -> None:
    from modrules.model import Evidence, Verdict, Violation
    from modrules.server.highlight import MAX_SHOWN, pieces

    def violation(rule: str, start: int, end: int, text: str) -> Violation:
        return Violation(
            rule=rule, category="insult-threat", clause=5, action="hold", message="m",
            evidence=[Evidence(start=start, end=end, text=text[start:end])],
        )

    text = "well you are an idiot ok"
    verdict = Verdict(comment_id="c", violations=[violation("a", 5, 21, text), violation("b", 9, 21, text)])
    assert [(p.text, p.rules) for p in pieces(text, verdict)] == [
        ("well ", ()), ("you are an idiot", ("a", "b")), (" ok", ())
    ]
    long_text = "x" * (MAX_SHOWN + 10)
    cut = pieces(long_text, Verdict(comment_id="c", violations=[violation("a", MAX_SHOWN - 2, MAX_SHOWN + 5, long_text)]))
    assert "".join(p.text for p in cut[:-1]) == long_text[:MAX_SHOWN]
    assert cut[-2].rules == ("a",) and "10 more characters" in cut[-1].text
