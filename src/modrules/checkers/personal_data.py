"""Personal data in a comment (clause 7, privacy): emails, phones, cards, IBANs, addresses, IPs.

Detection is separate from acting: `find_personal_data` is a pure function returning
typed items with raw spans, which the engine can also use to redact for `action: edit`.
All kinds are extracted once per comment (per phone region) through `Document.signal`,
so several rules share one scan. Cheap gates (is there an `@`, how many digits) skip
most extractors for most comments; cards, IPv4 addresses and phones are looked for only
inside the runs of digits found by one scan; patterns begin with a plain character and
check what precedes it by look-behind, with bounded repeats, so hostile text stays linear.

Precision over recall: years, dates, counts, money, versions and coordinates are not
phones; house numbers need a street suffix and a proper-noun street name (or a cue such
as "lives at"); a few official residences (10 Downing Street, 24 Sussex Drive, the
White House) are public places, not anyone's personal data, and are not reported.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from pydantic import Field, field_validator, model_validator

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    Span,
    register,
)

Kind = Literal["email", "phone", "card", "iban", "address", "ip"]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True, slots=True)
class PersonalDataItem:
    """One piece of personal data found in a text; [start, end) are raw offsets."""

    kind: Kind
    start: int
    end: int
    text: str


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------- email

# Separators of obfuscated addresses: "john [at] example [dot] com", "john(at)example.com".
_AT = r"(?:[ \t]?@[ \t]?|[ \t]*[\[({<][ \t]*at[ \t]*[\])}>][ \t]*)"
_DOT = r"(?:\.|[ \t]*[\[({<][ \t]*dot[ \t]*[\])}>][ \t]*|[ \t]+dot[ \t]+)"
_EMAIL = re.compile(
    rf"(?<![\w.+%-])(?P<local>[\w+%-][\w.+%-]{{0,63}}){_AT}"
    rf"(?P<domain>[^\W_][\w-]{{0,62}}(?:{_DOT}[^\W_][\w-]{{0,62}}){{0,6}})"
    rf"{_DOT}(?P<tld>[^\W\d_]{{2,24}})(?![\w-])",
    re.IGNORECASE,
)
_PLAIN_EMAIL = re.compile(r"[^\s\[\](){}<>@]+@[^\s\[\](){}<>@]+")
_EMAIL_GATE = re.compile(r"@|[\[({<][ \t]*at[ \t]*[\])}>]", re.IGNORECASE)
# Obfuscated or spaced forms need a real-looking top-level domain ("thanks @ John.Smith").
_COMMON_TLDS = _words(
    """
    com net org edu gov mil int info biz io co us ca uk de fr ru ch nl be at au nz ie in
    es it pl se no dk fi jp cn br mx ua me tv ly cc eu email mail online site
    """
)


def _find_emails(text: str) -> Iterable[tuple[int, int]]:
    if not _EMAIL_GATE.search(text):
        return
    for m in _EMAIL.finditer(text):
        plain = _PLAIN_EMAIL.fullmatch(m.group(0)) is not None
        local = m.group("local")
        if local.endswith(".") or ".." in local:
            continue
        tld = m.group("tld")
        if not plain and tld.lower() not in _COMMON_TLDS:
            continue
        end = m.end()
        if plain and tld[:1].isupper() and tld[1:].islower() and m.group("domain").islower():
            # "x@firm.com.Attorney": a sentence glued on after a missing space.
            end = m.start("tld") - 1
            if not re.search(r"\.[^\W\d_]{2,24}$", text[m.start() : end]):
                continue
        yield m.start(), end


# --------------------------------------------------------------------------- number runs

# Cards, IPv4 addresses and phone numbers each lie inside a run of digits joined by
# number punctuation, so the text is scanned once for runs and the kind patterns then
# run on the runs alone (most comments have none, or only a year or two).
_NUMBER_RUN = re.compile(r"\d(?<!\w\d)(?:[ \t().\-/\u2010-\u2013]{0,3}\d){3,}")


@dataclass(frozen=True, slots=True)
class _Run:
    start: int
    end: int
    digits: int


def _number_runs(text: str) -> list[_Run]:
    return [_Run(m.start(), m.end(), _count_digits(m.group(0))) for m in _NUMBER_RUN.finditer(text)]


# --------------------------------------------------------------------------- card

# Patterns start with a bare \d (so the regex engine can skip to digits) and check the
# character before it with a look-behind placed after that digit: linear on long runs.
_CARD = re.compile(r"\d(?<![\w.,/-]\d)(?:[ -]?\d){12,18}(?![\w/-]|[.,]\d)")
# (low, high) of an IIN prefix of len(str(low)) digits, and the lengths that brand issues.
_IIN_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (300, 305, frozenset(range(14, 20))),  # Diners Club
    (36, 36, frozenset(range(14, 20))),
    (38, 39, frozenset(range(16, 20))),
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (2200, 2204, frozenset(range(16, 20))),  # Mir
    (50, 50, frozenset(range(13, 20))),  # Maestro
    (56, 58, frozenset(range(13, 20))),
    (63, 63, frozenset(range(13, 20))),
    (67, 67, frozenset(range(13, 20))),
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)  # also right for other scripts' digits
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iin_ok(digits: str) -> bool:
    for low, high, lengths in _IIN_RANGES:
        prefix = int(digits[: len(str(low))])
        if low <= prefix <= high and len(digits) in lengths:
            return True
    return False


def _grouping_ok(raw: str) -> bool:
    """Cards are written unbroken or in their printed groups (4-4-4-4, 4-6-5, ...)."""
    seps = set(re.findall(r"[ -]", raw))
    if not seps:
        return True
    if len(seps) > 1:
        return False
    sizes = [len(g) for g in re.split(r"[ -]", raw)]
    if sizes[:-1] and all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4:
        return True
    return sizes in ([4, 6, 5], [4, 6, 4])


def _find_cards(text: str, runs: list[_Run]) -> Iterable[tuple[int, int]]:
    for run in runs:
        if run.digits < 13:
            continue
        for m in _CARD.finditer(text, run.start, run.end + 2):
            raw = m.group(0)
            digits = re.sub(r"\D", "", raw)
            if _grouping_ok(raw) and _iin_ok(digits) and _luhn_ok(digits):
                yield m.start(), m.end()


# --------------------------------------------------------------------------- iban

_IBAN = re.compile(
    r"\d(?<=[A-Za-z]{2}\d)(?<![^\W_]..\d)\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![^\W_])",
    re.IGNORECASE,
)
# Total IBAN length per country (SWIFT IBAN registry).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def _iban_ok(compact: str) -> bool:
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    # Letters count as 10..35; int() of the digit string is exact for any length.
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _find_ibans(text: str) -> Iterable[tuple[int, int]]:
    # The match starts at the check digits; the look-behinds saw the country code.
    for m in _IBAN.finditer(text):
        start = m.start() - 2
        if _iban_ok(text[start : m.end()].replace(" ", "").upper()):
            yield start, m.end()


# --------------------------------------------------------------------------- ip

_IPV4 = re.compile(r"\d(?<!\w\d)(?<!\d\.\d)\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]{2,39}(?![\w:])")
# A dotted quad after these words is a version or section number, not an address.
_VERSION_CUE = re.compile(
    r"(?:\bv|\bver|\bversion|\brelease|\bbuild|\bfirmware|\bupdate|\bpatch|\bsection|§)\.?\s*$",
    re.IGNORECASE,
)


def _find_ips(text: str, runs: list[_Run]) -> Iterable[tuple[int, int]]:
    for run in runs:
        if "." not in text[run.start : run.end]:
            continue
        for m in _IPV4.finditer(text, run.start, run.end + 2):
            try:
                addr = ipaddress.IPv4Address(m.group(0))
            except ValueError:
                continue
            if addr.is_unspecified or _VERSION_CUE.search(text, max(0, m.start() - 12), m.start()):
                continue
            yield m.start(), m.end()


def _find_ipv6(text: str) -> Iterable[tuple[int, int]]:
    if "::" in text or text.count(":") >= 7:
        for m in _IPV6.finditer(text):
            raw = m.group(0)
            groups = [g for g in raw.split(":") if g]
            # Needs the shape of an address, not "12:30:45" or a C++ "a::b".
            if len(groups) < 3 or ("::" not in raw and len(groups) != 8):
                continue
            try:
                ipaddress.IPv6Address(raw)
            except ValueError:
                continue
            yield m.start(), m.end()


# --------------------------------------------------------------------------- phone

_PHONE_RUN_MAX = 100  # longer runs are number tables or hostile text, never conversation
_PHONE_RUNS_PER_TEXT = 50
_CURRENCY_BEFORE = re.compile(r"[$€£¥₹₽]\s*$")
_ID_CUE = re.compile(r"\b(?:isbn|issn|doi|arxiv|pmid|version|ver|v)[\s.:#-]*$", re.IGNORECASE)
_DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
_YEAR_RANGE = re.compile(r"^(?:1[5-9]|20)\d\d\s*[-–/]\s*(?:(?:1[5-9]|20)\d\d|\d\d)$")
_DECIMAL = re.compile(r"^[-+]?\d+\.\d+$")
_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")  # an IPv4 address, not a phone


def _phone_false_positive(text: str, start: int, end: int) -> bool:
    raw = text[start:end].strip()
    if _DATE.match(raw) or _YEAR_RANGE.match(raw) or _DECIMAL.match(raw) or _QUAD.match(raw):
        return True
    # libphonenumber may find an inner number in "life86.139.1.2"; glued text is no phone,
    # and neither is a query parameter ("?pub=5575096797").
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "=/&_#@"):
        return True
    if end < len(text) and text[end].isalnum():
        return True
    before = text[max(0, start - 12) : start]
    after = text[end : end + 2]
    return bool(
        _CURRENCY_BEFORE.search(before)
        or _ID_CUE.search(before)
        or after[:1] in {"%", "°", ",", "."}
        and after[1:2].isdigit()
        or after[:1] in {"%", "°"}
    )


def _find_phones(text: str, region: str, runs: list[_Run]) -> Iterable[tuple[int, int]]:
    tried = 0
    for run in runs:
        if run.digits < 7 or run.end - run.start > _PHONE_RUN_MAX:
            continue
        tried += 1
        if tried > _PHONE_RUNS_PER_TEXT:
            return
        # A little context lets libphonenumber see a leading "+(" and neighbouring letters.
        lo, hi = max(0, run.start - 4), min(len(text), run.end + 2)
        for match in PhoneNumberMatcher(text[lo:hi], region, leniency=Leniency.STRICT_GROUPING):
            start, end = lo + match.start, lo + match.end
            if not _phone_false_positive(text, start, end):
                yield start, end


# --------------------------------------------------------------------------- address

_STRONG_SUFFIXES = (
    "street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|crescent|cres|parkway|pkwy|"
    "terrace|terr|close|mews|gardens|gdns|alley|drive|dr|court|ct|place|pl|highway|hwy|"
    "circle|cir"
)
# Suffixes that also name other things ("Supreme Court", "Death Row", "4 Wheel Drive"):
# they need more evidence (a ZIP, a unit, a cue) before the match counts.
_WEAK_SUFFIXES = _words(
    """
    drive court place highway circle way row walk square sq trail grove broadway
    """
)
_NAME_WORD = r"(?:[^\W\d_]+(?:['’-][^\W\d_]+)*|\d{1,3}(?:st|nd|rd|th))"
_DIRECTION = r"(?-i:N|S|E|W|NE|NW|SE|SW|North|South|East|West)"
_ADDRESS = re.compile(
    rf"""
    (?P<num>\d(?<![\w.,/:$€£-]\d)\d{{0,4}}(?:[A-Za-z](?![\w']))?(?:\s?[-–]\s?\d{{1,5}})?)\s+
    (?P<name>(?:{_DIRECTION}\.?\s+)?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})\s+
    (?P<suffix>{_STRONG_SUFFIXES}|{"|".join(sorted(_WEAK_SUFFIXES))})\b\.?
    (?P<dir>\s+(?-i:NW|NE|SW|SE|N|S|E|W)\b\.?)?
    (?P<unit>,?\s+(?:apt|apartment|suite|ste|unit|flat|\#)\.?\s*\#?\w{{1,5}}\b)?
    (?P<city>,\s*(?-i:[A-Z][a-z'’-]+)(?:\s+(?-i:[A-Z][a-z'’-]+)){{0,2}})?
    (?P<region>,?\s+(?-i:[A-Z]{{2}})\b)?
    (?P<postcode>,?\s+(?:\d{{5}}(?:-\d{{4}})?|(?-i:[A-Z]\d[A-Z]\s?\d[A-Z]\d)
        |(?-i:[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}}))\b)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# "Flat 3, 14 High St": a unit written before the house number.
_UNIT_BEFORE = re.compile(r"(?:flat|apt|apartment|unit|suite)\.?\s*\#?\w{1,5},?\s+$", re.IGNORECASE)
_PO_BOX = re.compile(
    r"\b(?:p\.?\s?o\.?|post\s+office)\s*box\s+\#?\d{1,6}\b(?:,?\s+[A-Za-z][\w ,]{0,40}?\d{5}\b)?",
    re.IGNORECASE,
)
_FRENCH_WORDS = ("rue", "avenue", "boulevard", "bd", "place", "allée", "chemin", "impasse", "quai")
_FRENCH = re.compile(
    r"(?<![\w.,/:$€£-])\d{1,4}(?:\s?(?:bis|ter))?,?\s+"
    rf"(?:{'|'.join(_FRENCH_WORDS)})\s+"
    r"(?:(?:de\s+la|de\s+l['’]|du|des|de|d['’]|la|le|les)\s*)?"
    r"(?-i:[A-Z][\w'’-]+)(?:\s+(?-i:[A-Z][\w'’-]+)){0,3}"
    r"(?:,?\s+\d{5}\b)?",
    re.IGNORECASE,
)
# Someone saying where a person lives makes a lower-case or weak match count.
_ADDRESS_CUE = re.compile(
    r"\b(?:live[sd]?|living|reside[sd]?|address(?:\s+is)?|located|house|home|apartment|flat|"
    r"condo|moved|move|stay(?:s|ing)?|find\s+(?:him|her|them)|visit|send)\b[^.!?\n]{0,20}$",
    re.IGNORECASE,
)
# Words that turn "5 people were killed on the road" or "3 main points" into prose.
_NOT_STREET_WORDS = _words(
    """
    a an the of on in at to for and or but with from by into onto over under about as is
    are was were be been being has have had do does did will would can could should may
    might must i you he she it we they me him her us them my your his its our their this
    that these those who which what when where why how all any some no not more most
    many much few other such only own same so than too very just people persons person
    men women kids children years year days day times hours minutes miles km kilometres
    kilometers metres meters feet inches percent points million billion trillion
    thousand hundred dozen things ways reasons cars killed died dead injured went got
    get go down up out off
    """
)
# A number after these words is a count or a year, not a house number.
_COUNT_BEFORE = re.compile(
    r"\b(?:the|these|those|top|all|about|over|under|nearly|almost|some|only|just|than|"
    r"first|last|every|of|in|since|by|until|till|before|after|during|circa|around)\s+$",
    re.IGNORECASE,
)
# Official residences and offices (number, street) identify no private person.
_PUBLIC_ADDRESSES: frozenset[tuple[str, str]] = frozenset(
    (f"{number}", street)
    for number, street in [
        (10, "downing"), (11, "downing"),  # UK prime minister and chancellor
        (1600, "pennsylvania"),  # the White House
        (24, "sussex"), (1, "sussex"),  # Canadian PM's residence, Rideau Hall
        (80, "wellington"),  # Office of the Prime Minister, Ottawa
    ]
)  # fmt: skip


def _is_title(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit()


def _street_match_ok(text: str, m: re.Match[str], unit_before: bool) -> bool:
    words = m.group("name").split()
    if any(w.lower().strip(".") in _NOT_STREET_WORDS for w in words):
        return False
    num = m.group("num")
    if {(num, words[0].lower()), (num, words[-1].lower())} & _PUBLIC_ADDRESSES:
        return False
    before = text[max(0, m.start("num") - 40) : m.start("num")]
    suffix = m.group("suffix")
    evidence = (
        unit_before
        or any(m.group(g) for g in ("dir", "unit", "postcode"))
        or bool(m.group("city") and m.group("region"))
    )
    cue = bool(_ADDRESS_CUE.search(before))
    if not (all(_is_title(w) for w in words) and _is_title(suffix)):
        return cue and not _COUNT_BEFORE.search(before)
    if _COUNT_BEFORE.search(before) and not evidence:
        return False
    if suffix.lower() in _WEAK_SUFFIXES:
        return evidence or cue
    return True


def _find_addresses(text: str) -> Iterable[tuple[int, int]]:
    for m in _ADDRESS.finditer(text):
        unit = _UNIT_BEFORE.search(text, max(0, m.start() - 24), m.start())
        if _street_match_ok(text, m, unit is not None):
            start = unit.start() if unit else m.start()
            end = m.end()
            # Keep the abbreviation's dot but not a sentence's full stop after a full word.
            if text[end - 1] == "." and m.group("suffix").lower() in _WEAK_SUFFIXES | {
                "street", "avenue", "road", "boulevard", "lane", "crescent", "parkway",
                "terrace", "close", "mews", "gardens", "alley", "drive", "court", "place",
                "highway", "circle",
            }:  # fmt: skip
                end -= 1
            yield start, end
    lower = text.lower()
    if "box" in lower:
        for m in _PO_BOX.finditer(text):
            yield m.start(), m.end()
    if any(word in lower for word in _FRENCH_WORDS):
        for m in _FRENCH.finditer(text):
            yield m.start(), m.end()


# --------------------------------------------------------------------------- all kinds

_DIGIT = re.compile(r"\d")


def _count_digits(text: str) -> int:
    # `in` and str.count run at C speed; other scripts' digits need the Unicode class.
    if not text.isascii():
        return len(_DIGIT.findall(text))
    data = text.encode("ascii")
    return len(data) - len(data.translate(None, b"0123456789"))  # one C pass


def _has_email_cue(text: str) -> bool:
    if "@" in text:
        return True
    return any(b in text for b in "[({<") and _EMAIL_GATE.search(text) is not None


class _Taken:
    """Disjoint spans already claimed, so a lower-priority kind cannot overlap them."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def claim(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start)
        if i > 0 and self._ends[i - 1] > start:
            return False
        if i < len(self._starts) and self._starts[i] < end:
            return False
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        return True


PRIORITY: tuple[Kind, ...] = ("email", "iban", "card", "ip", "phone", "address")
"""Which kind wins an overlap, first to last."""


def find_personal_data(
    text: str, region: str = "US", depth: int = len(PRIORITY)
) -> list[PersonalDataItem]:
    """Every item of personal data in `text`, in text order, without overlaps.

    `region` is the ISO country whose national phone format is assumed for numbers
    written without a country code. Where two finds overlap the more specific kind
    wins (email > iban > card > ip > phone > address), so a card is never also a phone.
    Only the first `depth` kinds of that order are looked for: a kind's items depend
    on the kinds before it alone, so they are the same as in a full search.
    """
    digits = _count_digits(text)
    # Cheap gates: most comments have no "@" and few digits, so most extractors never run.
    found: list[tuple[Kind, Iterable[tuple[int, int]]]] = []
    if _has_email_cue(text):
        found.append(("email", _find_emails(text)))
    if digits >= 8 and depth > 1:
        found.append(("iban", _find_ibans(text)))
    runs = _number_runs(text) if digits >= 4 and depth > 2 else []
    if runs:
        found.append(("card", _find_cards(text, runs)))
        if depth > 3:
            found.append(("ip", _find_ips(text, runs)))
    if depth > 3 and ("::" in text or text.count(":") >= 7):
        found.append(("ip", _find_ipv6(text)))
    if runs and depth > 4:
        found.append(("phone", _find_phones(text, region, runs)))
    if digits and depth > 5:
        found.append(("address", _find_addresses(text)))
    if not found:
        return []  # most comments: no cue for any kind
    taken = _Taken()
    items: list[PersonalDataItem] = []
    for kind, spans in found:
        for start, end in spans:
            if taken.claim(start, end):
                items.append(PersonalDataItem(kind, start, end, text[start:end]))
    items.sort(key=lambda item: item.start)
    return items


def personal_data_signal(
    doc: Document, region: str = "US", depth: int = len(PRIORITY)
) -> list[PersonalDataItem]:
    """The per-comment shared extraction (one per phone region), for any predicate; it
    holds at least the first `depth` kinds of PRIORITY (more if a deeper search ran)."""
    key = f"personal_data:{region}"
    known: tuple[int, list[PersonalDataItem]] | None = doc._signals.get(key)
    if known is None or known[0] < depth:
        known = (depth, find_personal_data(doc.text, region, depth))
        doc.set_signal(key, known)
    return known[1]


# --------------------------------------------------------------------------- predicate


class PersonalDataConfig(PredicateConfig):
    kinds: tuple[Kind, ...] = KINDS
    region: str = "US"
    min_count: int = Field(default=1, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `personal_data: email` or `personal_data: [email, phone]` name the kinds.
        if isinstance(value, (str, list, tuple)):
            return {"kinds": value}
        if value is None:
            return {}
        return value

    @field_validator("kinds", mode="before")
    @classmethod
    def _kinds(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            if any(v in ("all", "any") for v in value):
                return KINDS
            if not value:
                raise ValueError("kinds must name at least one kind")
            return tuple(dict.fromkeys(value))
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r} (use an ISO code such as US, GB)")
        return region


@register
class PersonalData(Predicate):
    """Holds when at least `min_count` items of the configured kinds occur."""

    name = "personal_data"
    Config = PersonalDataConfig

    def __init__(self, config: PersonalDataConfig, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self.config: PersonalDataConfig = config
        self._kinds = frozenset(config.kinds)
        # How far down the overlap order the search must go for these kinds.
        self._depth = 1 + max(PRIORITY.index(k) for k in self._kinds)

    def evaluate(self, doc: Document) -> Hit | None:
        found = personal_data_signal(doc, self.config.region, self._depth)
        items = [i for i in found if i.kind in self._kinds]
        if len(items) < self.config.min_count:
            return None
        named = {i.kind for i in items}
        return Hit(
            spans=[Span(i.start, i.end) for i in items],
            detail=", ".join(k for k in KINDS if k in named),
        )
