"""The personal_data predicate: what each kind finds, what it must leave alone, and speed."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modrules.checkers.base import CompileContext, Document, Hit
from modrules.checkers.personal_data import (
    KINDS,
    PersonalData,
    PersonalDataConfig,
    PersonalDataItem,
    find_personal_data,
)
from modrules.model import Comment
from modrules.text import TextViews


def found(text: str, region: str = "US") -> list[tuple[str, str]]:
    return [(item.kind, item.text) for item in find_personal_data(text, region)]


def kinds_in(text: str) -> set[str]:
    return {item.kind for item in find_personal_data(text)}


def doc(text: str) -> Document:
    return Document(Comment(id="c1", text=text), TextViews(text))


def predicate(**config: object) -> PersonalData:
    return PersonalData(PersonalDataConfig.model_validate(config), CompileContext(None))


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to john.smith@example.com today", "john.smith@example.com"),
        ("J.Doe+news@mail.example.co.uk.", "J.Doe+news@mail.example.co.uk"),
        ("john [at] example [dot] com", "john [at] example [dot] com"),
        ("john(at)example.com", "john(at)example.com"),
        ("reach me: jane {AT} example {DOT} org!", "jane {AT} example {DOT} org"),
        ("mail olowoyey@ usc.edu now", "olowoyey@ usc.edu"),
        ("me@firm.com.Attorney Jones said", "me@firm.com"),
    ],
)
def test_email_found(text: str, expected: str) -> None:
    assert found(text) == [("email", expected)]


def test_email_span_is_exact() -> None:
    text = "Contact: ann@example.org."
    (item,) = find_personal_data(text)
    assert item == PersonalDataItem("email", 9, 24, "ann@example.org")
    assert text[item.start : item.end] == item.text


@pytest.mark.parametrize(
    "text",
    [
        "@realDonaldTrump said so",
        "thanks @ John.Smith for that",  # a mention, not an address
        "user@localhost has no domain",
        "meet me at home dot com",
        "the ratio was 3 @ 4.5",
        "john [at] example [dot] smith",  # obfuscated forms need a real TLD
    ],
)
def test_email_not_found(text: str) -> None:
    assert "email" not in kinds_in(text)


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call (212) 555-1234 tonight", "(212) 555-1234"),
        ("her cell is 647-555-0123.", "647-555-0123"),
        ("416.555.0199", "416.555.0199"),
        ("dial 1-855-813-6111 now", "1-855-813-6111"),
        ("ring +44 20 7946 0958 in London", "+44 20 7946 0958"),
        ("+33 1 42 68 53 00", "+33 1 42 68 53 00"),
        ("text +447935454150 babe", "+447935454150"),
        ("his number: +1 (416) 555-0199 x 22", "+1 (416) 555-0199"),
    ],
)
def test_phone_found(text: str, expected: str) -> None:
    assert found(text) == [("phone", expected)]


def test_phone_span_is_exact() -> None:
    text = "Call (212) 555-1234!"
    (item,) = find_personal_data(text)
    assert (item.kind, item.start, item.end) == ("phone", 5, 19)


def test_phone_national_number_depends_on_region() -> None:
    assert found("ring 020 7946 0958 now") == []
    assert found("ring 020 7946 0958 now", region="GB") == [("phone", "020 7946 0958")]


@pytest.mark.parametrize(
    "text",
    [
        "On 2017-04-19 we met",
        "On 19.04.2017 we met",
        "On 04/19/2017 we met",
        "the war of 1939-1945, and 1914–1918",
        "from 1945-1991 the Soviet Union",
        "12,000 people died; 60,000,000 in all",
        "it cost $1,500,000 and then €2 500 000",
        "the deficit hit $19,500,000,000",
        "Population 35151728 in 2016",
        "meet at 10:30-11:45 on 2017-04-19 12:30:45",
        "Windows 10.0.19041.1110 and Python 3.11.4",
        "ISBN 978-0-306-40615-7, ISBN-10 0-306-40615-2",
        "they won 2-0, then 3-1, and 183-96 in the house",
        "support rose 45.5% to 52.25%",
        "Toronto is at 43.6532, -79.3832 or 43.6532° N, 79.3832° W",
        "order #123-456-7890 shipped",
        "http://example.com/item?pub=5575096797&id=2",
        "abc2125551234 is a username",
        "83039 62735 is not how US numbers are grouped",
    ],
)
def test_phone_not_found(text: str) -> None:
    assert "phone" not in kinds_in(text)


# --------------------------------------------------------------------------- card


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
        ("4111111111111111", "4111111111111111"),
        ("amex 3782 822463 10005.", "3782 822463 10005"),
        ("mc 5500-0000-0000-0004", "5500-0000-0000-0004"),
        ("discover 6011 1111 1111 1117", "6011 1111 1111 1117"),
    ],
)
def test_card_found(text: str, expected: str) -> None:
    assert found(text) == [("card", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "1234 5678 9012 3452",  # passes Luhn, no issuer starts with 1
        "4111 11111 111 1111",  # not a printed grouping
        "4111-1111 1111-1111",  # mixed separators
        "x4111111111111111",  # glued to a word
        "4111111111111111111111",  # too long
    ],
)
def test_card_not_found(text: str) -> None:
    assert "card" not in kinds_in(text)


def test_other_scripts_digits() -> None:
    fullwidth = "call \uff12\uff11\uff12-\uff15\uff15\uff15-\uff11\uff12\uff13\uff14 now"
    assert kinds_in(fullwidth) == {"phone"}


def test_card_is_never_also_a_phone() -> None:
    assert found("pay with 5500 0000 0000 0004") == [("card", "5500 0000 0000 0004")]


# --------------------------------------------------------------------------- iban


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
        ("iban: gb82 west 1234 5698 7654 32.", "gb82 west 1234 5698 7654 32"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
    ],
)
def test_iban_found(text: str, expected: str) -> None:
    assert found(text) == [("iban", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 33",  # checksum fails
        "DE89 3704 0044 0532 0130 0",  # wrong length for Germany
        "ZZ12 3456 7890 1234 5678",  # no such country
        "xDE89370400440532013000",  # glued to a word
    ],
)
def test_iban_not_found(text: str) -> None:
    assert "iban" not in kinds_in(text)


# --------------------------------------------------------------------------- ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("posted from 192.168.1.1.", "192.168.1.1"),
        ("-- 93.161.107.169", "93.161.107.169"),
        ("see (WC).70.73.141.146", "70.73.141.146"),
        ("host 2001:db8::ff00:42:8329 is up", "2001:db8::ff00:42:8329"),
        ("by 2A00:1CA8:18:0:216:3EFF:FECE:1ACB", "2A00:1CA8:18:0:216:3EFF:FECE:1ACB"),
    ],
)
def test_ip_found(text: str, expected: str) -> None:
    assert found(text) == [("ip", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4 is out",
        "upgrade to v10.0.0.1",
        "pi is 3.14 and semver 1.2.3",
        "999.1.1.1 is no address",
        "0.0.0.0",
        "1.192.168.1.1 has five parts",
        "at 12:30:45 we use std::vector and a::b",
    ],
)
def test_ip_not_found(text: str) -> None:
    assert "ip" not in kinds_in(text)


# --------------------------------------------------------------------------- address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He lives at 221B Baker Street, sadly.", "221B Baker Street"),
        ("Flat 3, 14 High St, London SW1A 1AA.", "Flat 3, 14 High St, London SW1A 1AA"),
        ("Write to PO Box 123 today", "PO Box 123"),
        ("Habite 12 rue de Rivoli, 75001 Paris", "12 rue de Rivoli, 75001"),
        ("350 Fifth Avenue, New York, NY 10118", "350 Fifth Avenue, New York, NY 10118"),
        ("office at 333 S Beaudry Ave  28th Floor", "333 S Beaudry Ave"),
        ("she moved into 300 Massachusetts Ave NW; nice", "300 Massachusetts Ave NW"),
        ("145 W 108th Street, Los Angeles.", "145 W 108th Street, Los Angeles"),
        ("she lives at 42 oak street in springfield", "42 oak street"),  # cue + lower case
        ("go to 12 Oak Court, Apt 4B now", "12 Oak Court, Apt 4B"),  # weak suffix + unit
    ],
)
def test_address_found(text: str, expected: str) -> None:
    assert found(text) == [("address", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "3 main points to make",
        "5 people were killed on the road",
        "2 cars hit the road today",
        "In 2015 Wall Street crashed",
        "since 1990 Main Street has changed",
        "9 Supreme Court justices agreed",
        "a 4 Wheel Drive truck",
        "the 3 Bay Street banks",
        "I drove 5 miles down Main Street",
        "10 million sq km of forest",
        "we saw 42 oak street trees",  # lower case needs someone saying where a person lives
        # Official residences identify no private person.
        "a letter from 10 Downing Street",
        "back at 24 Sussex Drive",
        "1600 Pennsylvania Ave NW, Washington, DC 20500",
        "$15 Main Street",
    ],
)
def test_address_not_found(text: str) -> None:
    assert "address" not in kinds_in(text)


# --------------------------------------------------------------------------- mixed text


def test_items_come_in_text_order_without_overlaps() -> None:
    text = (
        "Ann (ann@example.org, 212-555-1234) paid with 4111 1111 1111 1111 from "
        "10.0.0.7 and lives at 12 Elm Street."
    )
    items = find_personal_data(text)
    assert [i.kind for i in items] == ["email", "phone", "card", "ip", "address"]
    assert all(text[i.start : i.end] == i.text for i in items)
    assert all(a.end <= b.start for a, b in itertools.pairwise(items))


@pytest.mark.parametrize(
    "text",
    [
        "The Liberals won 184 of 338 seats in 2015, up from 34 in 2011.",
        "Unemployment fell 0.3 points to 6.8% in April; 1,200,000 jobs since 2008.",
        "In the 1990s, Highway 401 carried 400,000 cars a day. Route 66 too.",
        "See pages 123-145 of the 2nd edition (2004), chapter 3.2.1.",
        "Bill C-51 passed 183-96 on 2015-05-06 at 10:45 p.m.",
        "He was 6'2\" and 220 lbs, born 12/03/1964, jersey #99.",
    ],
)
def test_news_comment_numbers_are_not_personal_data(text: str) -> None:
    assert find_personal_data(text) == []


# --------------------------------------------------------------------------- predicate


def test_config_defaults_and_shorthands() -> None:
    config = PersonalDataConfig.model_validate({})
    assert (config.kinds, config.region, config.min_count) == (KINDS, "US", 1)
    assert PersonalDataConfig.model_validate("email").kinds == ("email",)
    assert PersonalDataConfig.model_validate(["email", "phone"]).kinds == ("email", "phone")
    assert PersonalDataConfig.model_validate({"kinds": ["all"]}).kinds == KINDS
    assert PersonalDataConfig.model_validate({"region": "gb"}).region == "GB"


@pytest.mark.parametrize(
    "config",
    [
        {"kinds": ["ssn"]},
        {"kinds": []},
        {"region": "XX"},
        {"min_count": 0},
        {"kindz": ["email"]},
    ],
)
def test_bad_config_is_rejected(config: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PersonalDataConfig.model_validate(config)


def test_hit_has_one_span_per_item_and_names_the_kinds() -> None:
    text = "mail bob@example.com or call (212) 555-1234, or bob@example.net"
    hit = predicate().evaluate(doc(text))
    assert isinstance(hit, Hit)
    assert [text[s.start : s.end] for s in hit.spans] == [
        "bob@example.com",
        "(212) 555-1234",
        "bob@example.net",
    ]
    assert hit.detail == "email, phone"


def test_kinds_filter() -> None:
    text = "call (212) 555-1234"
    assert predicate(kinds=["email"]).evaluate(doc(text)) is None
    hit = predicate(kinds=["phone"]).evaluate(doc(text))
    assert hit is not None and hit.detail == "phone"


def test_min_count() -> None:
    one = "bob@example.com"
    two = "bob@example.com and ann@example.com"
    assert predicate(min_count=2).evaluate(doc(one)) is None
    hit = predicate(min_count=2).evaluate(doc(two))
    assert hit is not None and len(hit.spans) == 2


def test_region_config_reaches_phone_parsing() -> None:
    text = "ring 020 7946 0958"
    assert predicate().evaluate(doc(text)) is None
    assert predicate(region="GB").evaluate(doc(text)) is not None


def test_no_hit_on_clean_text() -> None:
    assert predicate().evaluate(doc("A thoughtful comment about the 2015 budget.")) is None


def test_extraction_is_shared_between_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    import modrules.checkers.personal_data as module

    calls = 0
    real = module.find_personal_data

    def counting(text: str, region: str = "US", depth: int = 6) -> list[PersonalDataItem]:
        nonlocal calls
        calls += 1
        return real(text, region, depth)

    monkeypatch.setattr(module, "find_personal_data", counting)
    document = doc("bob@example.com, (212) 555-1234")
    # The deeper search (phone comes after email in the overlap order) serves both.
    assert predicate(kinds=["phone"]).evaluate(document) is not None
    assert predicate(kinds=["email"]).evaluate(document) is not None
    assert predicate(kinds=["email", "card"]).evaluate(document) is not None
    assert calls == 1


@pytest.mark.parametrize(
    "text",
    [
        "bob@example.com, (212) 555-1234, 4111 1111 1111 1111, 10.0.0.1, 67 High Street",
        "card 4111-1111-1111-1111 or call +44 20 7946 0958 at 12 Baker Street, London",
        "IBAN GB82 WEST 1234 5698 7654 32 and 192.168.1.20 and 555-0199",
        "me at (555) 123-4567 or ::1, 221B Baker Street",
    ],
)
def test_a_shallow_search_finds_what_the_full_one_finds(text: str) -> None:
    from modrules.checkers.personal_data import PRIORITY, find_personal_data

    full = find_personal_data(text)
    assert full  # each text holds personal data
    for depth in range(1, len(PRIORITY) + 1):
        wanted = set(PRIORITY[:depth])
        assert [i for i in find_personal_data(text, depth=depth) if i.kind in wanted] == [
            i for i in full if i.kind in wanted
        ]


# --------------------------------------------------------------------------- hostile text


@pytest.mark.parametrize(
    "text",
    [
        "1" * 1_000_000,
        "12 " * 300_000,
        "4111 " * 200_000,
        "1." * 400_000,
        "a@" * 300_000,
        "a" * 500_000 + "@" + "b." * 200_000,
        "x" + "1" * 500_000,
        ("DE89 " * 100_000),
        "1 Main " * 100_000,
        ":" * 100_000 + "1::1",
        "(at) " * 100_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_hostile_text_is_fast(text: str) -> None:
    started = time.perf_counter()
    find_personal_data(text)
    assert time.perf_counter() - started < 3.0


def test_many_items_are_fast() -> None:
    text = "bob@example.com (212) 555-1234 " * 2_000
    started = time.perf_counter()
    items = find_personal_data(text)
    assert time.perf_counter() - started < 3.0
    assert len(items) >= 2_000


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 .-+()@:/abcAT[]ÄΩ٣\u200b\n"), max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    for item in find_personal_data(text):
        assert 0 <= item.start < item.end <= len(text)
        assert text[item.start : item.end] == item.text
