"""`links`: URL extraction (positives, hard negatives, spans, obfuscation), host lists,
look-alike brands, every link kind, configs, and hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modrules.checkers.base import CompileContext, Document, PredicateError
from modrules.checkers.links import (
    HostSet,
    Links,
    LinksConfig,
    document_urls,
    extract_urls,
    lookalike_brand,
    registered_domain,
)
from modrules.model import Comment
from modrules.text import TextViews

REPO = Path(__file__).resolve().parent.parent
SPUTNIK = REPO / "rules" / "sputnik"


def found(text: str) -> list[str]:
    return [u.text for u in extract_urls(text)]


def hosts(text: str) -> list[str]:
    return [u.host for u in extract_urls(text)]


def doc(text: str) -> Document:
    return Document(Comment(id="c", text=text), TextViews(text))


def links(ruleset_dir: Path | None = None, **config: object) -> Links:
    ctx = CompileContext(
        ruleset_dir=ruleset_dir, site_name="Sputnik", site_aliases=("Sputnik News",)
    )
    return Links(LinksConfig.model_validate(config), ctx)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("go to https://example.com/a?b=1#c now", ["https://example.com/a?b=1#c"]),
        ("http://Example.COM", ["http://Example.COM"]),
        ("ftp://files.example.org/pub/x.txt", ["ftp://files.example.org/pub/x.txt"]),
        ("see www.example.net today", ["www.example.net"]),
        ("see www.example.xyz/page", ["www.example.xyz/page"]),
        ("visit example.com/x now", ["example.com/x"]),
        ("bit.ly/abc and t.co/xyz", ["bit.ly/abc", "t.co/xyz"]),
        ("buy at mysite.ru cheap", ["mysite.ru"]),
        ("it is on news.bbc.co.uk", ["news.bbc.co.uk"]),
        ("MYSHOP.COM sells it", ["MYSHOP.COM"]),
        ("Amazon.com is big", ["Amazon.com"]),
        ("a shop at example.shop/sale", ["example.shop/sale"]),
        ("host example.com:8080/admin", ["example.com:8080/admin"]),
        ("https://sub.domain.example.co.uk:443/", ["https://sub.domain.example.co.uk:443/"]),
    ],
)
def test_finds_urls(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. and the U.K. agreed.",
        "Several allies, e.g. France, i.e. the French.",
        "Mr.Smith and Dr.Who met at St.Petersburg.",
        "It was the end.Then it started again.",
        "It was the end.The next day was fine.",
        "it was the end.in the morning we left",
        "I did it.it was great",
        "Inflation hit 3.5% and then 4.25 percent, $3.50 a loaf.",
        "Upgrade to version 1.2.3 or v2.0.1, Python 3.11, build 10.0.19041.1",
        "at 10.30am or 6.00.pm sharp",
        "write to john.smith@example.com or mike.co@gmail.com",
        "the dot com bubble burst; a dot com company",
        "open report.pdf, setup.exe, archive.zip, main.py, notes.md and photo.jpg",
        "at 9 a.m. the Ph.D. student from the U.S.A. arrived",
        "No.1 hit, Fig.3 shows... wait... what....",
        "his IP was 1.2.3.4 they say, the 10.0.0.0/8 network",
        "see you soon.xxx",
        "Node.js and Vue.js are frameworks",
        "so.what",
        "",
        "no dots at all here",
    ],
)
def test_hard_negatives(text: str) -> None:
    assert found(text) == []


def test_email_is_not_a_url_but_a_url_with_an_at_in_its_path_is() -> None:
    assert found("mail me at jane.doe@example.org.") == []
    assert found("medium.com/@author/post") == ["medium.com/@author/post"]


def test_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert found("Look: https://example.com/page.") == ["https://example.com/page"]
    assert found("(see https://example.com/x)") == ["https://example.com/x"]
    assert found("wow example.com/y!") == ["example.com/y"]
    assert found("first example.com/a, then example.org/b;") == ["example.com/a", "example.org/b"]
    assert found('"https://example.com/q?x=1"') == ["https://example.com/q?x=1"]
    assert found("<https://example.com/>") == ["https://example.com/"]
    assert found("end example.com.") == ["example.com"]


def test_balanced_parentheses_stay_in_the_path() -> None:
    text = "(https://en.wikipedia.org/wiki/Mercury_(planet))."
    assert found(text) == ["https://en.wikipedia.org/wiki/Mercury_(planet)"]
    assert found("[link](http://example.com/a)") == ["http://example.com/a"]


def test_sentence_after_a_domain_is_cut_off() -> None:
    assert found("I read it on site.com.Then I left") == ["site.com"]


def test_spans_index_the_text() -> None:
    text = "Hi! Go to https://evil.example/setup.exe, or bit.ly/x."
    urls = extract_urls(text)
    assert [(text[u.start : u.end]) for u in urls] == ["https://evil.example/setup.exe", "bit.ly/x"]
    assert [u.text for u in urls] == [text[u.start : u.end] for u in urls]


def test_url_fields() -> None:
    (u,) = extract_urls("HTTPS://User:pw@Shop.Example.com:8443/p/q?x=1#f")
    assert (u.scheme, u.host, u.port, u.path) == ("https", "shop.example.com", 8443, "/p/q?x=1#f")
    (bare,) = extract_urls("example.com/x")
    assert bare.scheme is None and bare.port is None


def test_userinfo_is_not_the_host() -> None:
    (u,) = extract_urls("http://google.com@evil.example/login")
    assert u.host == "evil.example"
    assert u.text == "http://google.com@evil.example/login"


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("example[.]com", "example.com"),
        ("example(.)com/x", "example.com"),
        ("example{.}net", "example.net"),
        ("example [.] com", "example.com"),
        ("example[dot]com", "example.com"),
        ("example (dot) org", "example.org"),
        ("example dot com", "example.com"),
        ("example DOT com", "example.com"),
        ("kidsshop  . com", "kidsshop.com"),
        ("kidsshop . com/game", "kidsshop.com"),
        ("hxxp://evil[.]example/x", "evil.example"),
        ("hxxps://malware.ru", "malware.ru"),
        ("h**p://promo.biz/x", "promo.biz"),
        ("example\uff0ecom/x", "example.com"),  # fullwidth full stop
        ("example\u3002com/x", "example.com"),  # ideographic full stop
        ("exa\u200bmple.com", "example.com"),  # zero-width space inside
    ],
)
def test_obfuscated_urls(text: str, host: str) -> None:
    (u,) = extract_urls(f"go to {text} now")
    assert u.host == host
    assert u.obfuscated or text.startswith(("example\uff0e", "example\u3002"))


def test_defanged_scheme_reads_as_the_real_one() -> None:
    (u,) = extract_urls("hxxps://evil.example/")
    assert u.scheme == "https" and u.obfuscated
    (v,) = extract_urls("http://fine.example/")
    assert v.scheme == "http" and not v.obfuscated


def test_invisible_characters_map_back_to_raw_offsets() -> None:
    text = "\ufeff\u200bgo exa\u200bmple\u200b.com\u200b/x\ufeff"
    (u,) = extract_urls(text)
    assert text[u.start : u.end] == "exa\u200bmple\u200b.com\u200b/x"
    assert u.host == "example.com"


def test_unicode_and_ip_hosts() -> None:
    (ru,) = extract_urls("сайт пример.рф работает")
    assert ru.host == "пример.рф" and ru.ascii_host == "xn--e1afmkfd.xn--p1ai"
    (de,) = extract_urls("https://münchen.de/x")
    assert de.ascii_host == "xn--mnchen-3ya.de"
    (ip,) = extract_urls("http://192.168.10.5/a.exe")
    assert ip.is_ip and ip.host == "192.168.10.5"
    (port,) = extract_urls("connect 45.33.2.1:8080")
    assert port.is_ip and port.port == 8080
    (v6,) = extract_urls("http://[2001:db8::1]:80/x")
    assert v6.is_ip and v6.host == "2001:db8::1"
    (dec,) = extract_urls("http://3232235777/")
    assert dec.is_ip
    assert found("http://[not:an:ip]/") == []


def test_scheme_needs_a_real_host() -> None:
    assert found("http://") == []
    assert found("http://word and more") == []
    assert found("http://localhost:8000/") == ["http://localhost:8000/"]


# ----------------------------------------------------------------- host lists


def test_host_set_matches_subdomains_and_reads_list_formats(tmp_path: Path) -> None:
    path = write(
        tmp_path / "l.txt",
        "# comment\nbit.ly   # trailing comment\n\n0.0.0.0 evil.example\n"
        "https://paste.example/raw\n*.wild.example\nпример.рф\nEXAMPLE.ORG.\n",
    )
    hs = HostSet.from_file(path)
    assert hs.lookup("bit.ly") == "bit.ly"
    assert hs.lookup("www.bit.ly") == "bit.ly"
    assert hs.lookup("notbit.ly") is None
    assert hs.lookup("a.b.evil.example") == "evil.example"
    assert hs.lookup("paste.example") == "paste.example"
    assert hs.lookup("x.wild.example") == "wild.example"
    assert hs.lookup("xn--e1afmkfd.xn--p1ai") == "xn--e1afmkfd.xn--p1ai"
    assert hs.lookup("example.org") == "example.org"
    assert HostSet().lookup("bit.ly") is None


def test_registered_domain() -> None:
    assert registered_domain("a.b.example.com") == "example.com"
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("shop.example.com.au") == "example.com.au"
    assert registered_domain("paypal.com.secure-login.ru") == "secure-login.ru"
    assert registered_domain("example.com") == "example.com"


# ----------------------------------------------------------------- look-alikes

BRANDS = ["paypal", "google", "microsoft", "apple", "amazon", "binance", "ebay", "sputnik"]


@pytest.mark.parametrize(
    ("host", "brand"),
    [
        ("paypa1.com", "paypal"),
        ("g00gle.com", "google"),
        ("micros0ft-support.com", "microsoft"),
        ("rnicrosoft.com", "microsoft"),
        ("m1crosoft.net", "microsoft"),
        ("\u0430pple.com", "apple"),  # Cyrillic a
        ("paypal.com.secure-login.ru", "paypal"),
        ("www.paypal.com-verify.info", "paypal"),
        ("paypal-login.net", "paypal"),
        ("securepaypal.com", "paypal"),
        ("applesupport.help", "apple"),
        ("login.paypal.account-check.ru", "paypal"),
        ("gooogle.com", "google"),
        ("amazom.co.uk", "amazon"),
        ("3bay.com", "ebay"),
        ("sputn1k.ru", "sputnik"),
    ],
)
def test_lookalikes(host: str, brand: str) -> None:
    assert lookalike_brand(host, BRANDS) == brand


@pytest.mark.parametrize(
    "host",
    [
        "paypal.com",
        "www.paypal.com",
        "google.co.uk",
        "google.ru",
        "mail.google.com",
        "pineapple.com",
        "apple.stackexchange.com",
        "googleblog.com",
        "finance.com",
        "amazons.com",
        "purchase-alert.com",
        "example.com",
        "sputniknews.com",
        "1.2.3.4",
    ],
)
def test_not_lookalikes(host: str) -> None:
    assert lookalike_brand(host, BRANDS) is None


# ------------------------------------------------------------------ predicate


def hit_texts(pred: Links, text: str) -> list[str]:
    hit = pred.evaluate(doc(text))
    return [] if hit is None else [text[s.start : s.end] for s in hit.spans]


def test_any_kind_counts_every_url_and_reports_raw_spans() -> None:
    pred = links()
    text = "Buy at shop.example.com/deal and https://other.example.org!"
    hit = pred.evaluate(doc(text))
    assert hit is not None
    assert [text[s.start : s.end] for s in hit.spans] == [
        "shop.example.com/deal",
        "https://other.example.org",
    ]
    assert hit.detail is not None and hit.detail.startswith("link shop.example.com/deal")
    assert pred.evaluate(doc("No links here, e.g. none.")) is None


def test_min_count() -> None:
    pred = links(min_count=2)
    assert hit_texts(pred, "one: example.com/a") == []
    assert hit_texts(pred, "example.com/a example.org/b") == ["example.com/a", "example.org/b"]


def test_shortener_kind(tmp_path: Path) -> None:
    write(tmp_path / "s.txt", "bit.ly\ntinyurl.com\n")
    pred = links(tmp_path, kinds=["shortener"], shorteners="s.txt")
    hit = pred.evaluate(doc("click bit.ly/free and www.tinyurl.com/x, not example.com/y"))
    assert hit is not None and hit.detail is not None
    assert hit.detail.startswith("shortener bit.ly")
    assert len(hit.spans) == 2


def test_executable_kind() -> None:
    pred = links(kinds=["executable"])
    hit = pred.evaluate(doc("get it: http://evil.example/setup.exe?ref=1 now"))
    assert hit is not None and hit.detail == "executable download evil.example/setup.exe?ref=1"
    for path in ("tool.scr", "a.BAT", "x.msi", "app.apk", "run.jar", "p.ps1", "k.dll", "d.zip",
                 "d.rar", "d.7z", "d.iso", "d.dmg", "i.js", "v.vbs", "dl.php?file=setup.exe"):  # fmt: skip
        assert hit_texts(pred, f"see files.example.net/{path}"), path
    for path in (
        "page.html",
        "news/2017/04/19/story",
        "photo.jpg",
        "doc.pdf",
        "redirect?to=site.com",
    ):
        assert not hit_texts(pred, f"see files.example.net/{path}"), path


def test_ip_host_kind() -> None:
    pred = links(kinds=["ip-host"])
    assert hit_texts(pred, "go http://185.23.4.5/x and example.com/y") == ["http://185.23.4.5/x"]
    assert hit_texts(pred, "version 1.2.3.4 is out") == []


def test_punycode_kind() -> None:
    pred = links(kinds=["punycode"])
    assert hit_texts(pred, "https://xn--pple-43d.com/login") == ["https://xn--pple-43d.com/login"]
    assert hit_texts(pred, "https://\u0430pple.com/login") == ["https://\u0430pple.com/login"]
    assert hit_texts(pred, "https://apple.com/login") == []


def test_lookalike_kind_includes_the_site_name() -> None:
    pred = links(kinds=["lookalike"])
    hit = pred.evaluate(doc("verify at paypa1.com/login"))
    assert hit is not None and hit.detail == "look-alike of paypal: paypa1.com"
    assert hit_texts(pred, "read sputnlknews.com/x") == ["sputnlknews.com/x"]  # l for i
    assert hit_texts(pred, "read sputn1knews.com/x") == ["sputn1knews.com/x"]
    assert hit_texts(pred, "read sputniknews.com/x") == []
    assert links(kinds=["lookalike"], brands=["acmebank"]).evaluate(doc("acmebank-login.com/x"))


def test_denied_kind_and_deny_beats_allow(tmp_path: Path) -> None:
    write(tmp_path / "deny.txt", "grabify.link\nevil-files.net\n")
    write(tmp_path / "allow.txt", "evil-files.net\nwikipedia.org\n")
    pred = links(tmp_path, kinds=["denied"], deny="deny.txt", allow="allow.txt")
    hit = pred.evaluate(doc("grabify.link/abc and cdn.evil-files.net/x and en.wikipedia.org/y"))
    assert hit is not None and hit.detail is not None
    assert [s.end - s.start for s in hit.spans] == [
        len("grabify.link/abc"),
        len("cdn.evil-files.net/x"),
    ]
    assert hit.detail.startswith("denied host grabify.link")


def test_allowed_hosts_never_count_except_when_denied(tmp_path: Path) -> None:
    write(tmp_path / "allow.txt", "sputniknews.com\nwikipedia.org\n")
    for kinds in (["any"], ["not-allowed"], ["executable"], ["lookalike"]):
        pred = links(tmp_path, kinds=kinds, allow="allow.txt")
        assert hit_texts(pred, "https://en.wikipedia.org/wiki/X.zip and sputniknews.com/a") == []
    pred = links(tmp_path, kinds=["not-allowed"], allow="allow.txt")
    assert hit_texts(pred, "sputniknews.com/a and spam.example.com/b") == ["spam.example.com/b"]


def test_kinds_combine_and_the_most_telling_kind_describes(tmp_path: Path) -> None:
    write(tmp_path / "s.txt", "bit.ly\n")
    pred = links(tmp_path, kinds=["shortener", "executable"], shorteners="s.txt")
    hit = pred.evaluate(doc("bit.ly/abc then http://x.example/a.exe then example.com/plain"))
    assert hit is not None and hit.detail is not None
    assert len(hit.spans) == 2
    assert hit.detail == "shortener bit.ly; executable download x.example/a.exe"


def test_default_lists_come_from_the_ruleset_directory() -> None:
    pred = links(SPUTNIK, kinds=["shortener"])
    assert hit_texts(pred, "bit.ly/abc") == ["bit.ly/abc"]
    denied = links(SPUTNIK, kinds=["denied"])
    assert hit_texts(denied, "grabify.link/x") == ["grabify.link/x"]
    anything = links(SPUTNIK)
    assert hit_texts(anything, "https://sputniknews.com/world/ and en.wikipedia.org/wiki/A") == []


def test_no_ruleset_lists_means_empty_lists(tmp_path: Path) -> None:
    assert hit_texts(links(tmp_path, kinds=["shortener"]), "bit.ly/abc") == []
    assert hit_texts(links(None, kinds=["denied"]), "grabify.link/x") == []
    assert hit_texts(links(tmp_path), "en.wikipedia.org/wiki/A") == ["en.wikipedia.org/wiki/A"]


def test_several_list_files_and_shared_compilation(tmp_path: Path) -> None:
    write(tmp_path / "lists" / "a.txt", "a-short.net\n")
    write(tmp_path / "lists" / "b.txt", "b-short.net\n")
    ctx = CompileContext(ruleset_dir=tmp_path)
    config = LinksConfig.model_validate(
        {"kinds": ["shortener"], "shorteners": ["lists/a.txt", "lists/b.txt"]}
    )
    first, second = Links(config, ctx), Links(config, ctx)
    text = "a-short.net/1 b-short.net/2"
    assert len(hit_texts(first, text)) == 2
    assert len(hit_texts(second, text)) == 2
    assert len([k for k in ctx.cache if k[0] == "links.hosts"]) == 2  # each file read once


def test_missing_list_file_is_a_compile_error(tmp_path: Path) -> None:
    with pytest.raises(PredicateError, match="nope.txt"):
        links(tmp_path, deny="nope.txt")


def test_bad_configs_fail_validation() -> None:
    with pytest.raises(ValidationError):
        LinksConfig.model_validate({"kinds": ["bogus"]})
    with pytest.raises(ValidationError):
        LinksConfig.model_validate({"min_count": 0})
    with pytest.raises(ValidationError):
        LinksConfig.model_validate({"kinds": []})
    with pytest.raises(ValidationError):
        LinksConfig.model_validate({"deny_list": "x.txt"})


def test_shorthand_configs() -> None:
    assert LinksConfig.model_validate(None).kinds == ("any",)
    assert LinksConfig.model_validate("shortener").kinds == ("shortener",)
    assert LinksConfig.model_validate(["ip-host", "punycode", "ip-host"]).kinds == (
        "ip-host",
        "punycode",
    )
    assert LinksConfig.model_validate(3).min_count == 3
    assert LinksConfig.model_validate({"deny": "lists/x.txt"}).deny == ("lists/x.txt",)


def test_urls_are_extracted_once_per_comment() -> None:
    d = doc("example.com/a")
    links().evaluate(d)
    first = document_urls(d)
    links(kinds=["executable"]).evaluate(d)
    assert document_urls(d) is first
    assert d.signal("urls", lambda _: []) is first
    assert [u.text for u in first] == ["example.com/a"]


# ------------------------------------------------------------------- hostile


@pytest.mark.parametrize(
    "text",
    [
        "." * 1_000_000,
        "a." * 500_000,
        "a" * 1_000_000 + ".com",
        "x" * 70 + ".com " + "y." * 100 + "com",
        "http://" * 100_000,
        "http://a" + ".b" * 200_000 + "/",
        "a-" * 500_000,
        "a [.] " * 150_000,
        " dot " * 200_000,
        "\u200b." * 300_000,
        "www." * 200_000,
        "1." * 500_000,
        "(" * 300_000 + "http://example.com/" + ")" * 300_000,
    ],
)
def test_hostile_input_finishes_fast(text: str) -> None:
    started = time.perf_counter()
    urls = extract_urls(text)
    assert time.perf_counter() - started < 3.0
    assert all(0 <= u.start < u.end <= len(text) for u in urls)


def test_very_long_label_is_not_a_host() -> None:
    assert found("a" * 64 + ".com/x") == []
    assert found("a" * 63 + ".com/x") == ["a" * 63 + ".com/x"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab.:/-@[]() dotcmhpsxw1\u200b\u0430")) | st.characters(),
        max_size=200,
    )
)
def test_random_text_never_crashes_and_spans_are_consistent(text: str) -> None:
    for u in extract_urls(text):
        assert 0 <= u.start < u.end <= len(text)
        assert u.text == text[u.start : u.end]
        assert u.host


# ------------------------------------------------------------------ end to end


def test_a_rule_with_links_reports_detail_and_raw_evidence(tmp_path: Path) -> None:
    from modrules import Moderator

    root = tmp_path / "rs"
    write(root / "policy.yaml", "site:\n  name: Example\n")
    write(root / "lists" / "url-shorteners.txt", "bit.ly\n")
    write(
        root / "links.yaml",
        """\
id: shortened-link
category: malware
clause: 15
action: hold
severity: minor
message: "Shortened link ({detail})."
when:
  links: {kinds: [shortener]}
examples:
  match: ["see bit.ly/abc"]
  no_match: ["see example.com/abc", "the U.S. economy grew 3.5%"]
""",
    )
    moderator = Moderator.from_path(root)
    text = "Ｆｒｅｅ\u200b stuff at hxxps://bit[.]ly/abc!"
    verdict = moderator.moderate({"id": "1", "text": text})
    (violation,) = verdict.violations
    assert violation.message == "Shortened link (shortener bit.ly)."
    (evidence,) = violation.evidence
    assert evidence.text == "hxxps://bit[.]ly/abc" == text[evidence.start : evidence.end]


URLISH = st.lists(
    st.sampled_from(
        list("abcmoruw.:/-@[]()# \u200bdtphx1059\u0430")
        + [" dot ", ".com", "http://", "www.", "a" * 60]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(URLISH)
def test_windowed_scan_finds_what_a_whole_text_scan_finds(text: str) -> None:
    from modrules.checkers import links as mod

    if "\u200b" in text:
        return  # invisible characters take a different path (covered above)
    whole = [mod._vet(m, text) for m in mod._URL_RE.finditer(text)]
    assert extract_urls(text) == [u for u in whole if u is not None]
