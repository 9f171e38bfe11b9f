"""Links in comments: find URLs once per comment, then judge them by kind.

Serves the commercial, third-party-promotion, spam and malware clauses. Extraction is
one precompiled regex pass (after a cheap "is there a dot at all" check) that finds
URLs with a scheme, `www.` hosts, bare `example.com/x` domains with a known TLD, and
defanged/obfuscated forms (`hxxp://`, `example[.]com`, `example dot com`). Candidates
are then vetted in Python, which is where abbreviations (`U.S.`), decimals, sentence
breaks (`end.The`) and file names are turned away.

The regex is built to run in linear time on hostile text: it cannot start inside a
word, every repetition is bounded or possessive, and a candidate is consumed whole.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import idna
from pydantic import Field, field_validator, model_validator

from modrules.checkers.base import (
    CompileContext,
    Document,
    Hit,
    Predicate,
    PredicateConfig,
    PredicateError,
    Span,
    register,
)
from modrules.checkers.pattern import PatternBank

# --------------------------------------------------------------------------- TLDs


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every delegated two-letter country-code TLD (ISO 3166 codes plus ac, eu, su, uk).
_CCTLDS = _words(
    """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo
    br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm
    do dz ec ee eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs
    gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km
    kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp
    mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk
    pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss
    st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va
    vc ve vg vi vn vu wf ws ye yt za zm zw
    """
)

# Generic TLDs that are not English words: a bare `name.<tld>` is almost surely a domain.
_GTLDS_STRONG = _words(
    """
    com net org info biz edu gov mil int mobi asia aero coop museum travel jobs tel xyz
    onion xxx porn icu cyou gdn ltd llc inc
    """
)

# Generic TLDs that are also words ("end.today", "over.now"); see _WEAK_TLDS.
_GTLDS_WORDS = _words(
    """
    app dev page blog cloud online site website store shop tech space live life news world
    today media agency company network solutions services support center global group
    guru vip win bid loan men work date download review stream racing party science trade
    cricket faith webcam kim fun monster rest bar buzz best lol wtf sex adult casino bet
    poker games game club top link click email digital pro name fit zip mov ninja
    money cash finance capital market markets deals sale promo video tv photo pics
    """
)

# Internationalised TLDs a Russian-language or Chinese-language spammer might use.
_IDN_TLDS = _words("рф рус москва бел укр срб қаз мкд 中国 中國 公司 网络 在线 香港")

TLDS: frozenset[str] = _CCTLDS | _GTLDS_STRONG | _GTLDS_WORDS | _IDN_TLDS

# TLDs that are common words or chat slang: `end.in`, `it.is`, `soon.xxx`, `drink.pa`
# without a path or a third label are far more often a missing space after a full stop
# than a link.
_WEAK_TLDS = _GTLDS_WORDS | _words(
    "am as at be by do id im in is it la ma me my no nu pa re so to us ye onion xxx"
)

# TLDs that double as file extensions: `report.zip`, `main.py`, `notes.md` in prose.
_FILE_LIKE_TLDS = _words("zip mov py md sh ps")

# Second-level labels under a ccTLD that form a public suffix (bbc.co.uk, abc.net.au).
_SECOND_LEVEL = _words(
    "co com net org gov edu ac ltd plc nom mil gob gouv or ne go sch nhs gv web biz info"
)

# Function words that precede a spoken "dot com" in prose ("the dot com bubble").
_DOT_WORD_STOPWORDS = _words("a an the this that of and or big early whole old new first last late")

# ----------------------------------------------------------------------- regexes

_DOTS = ".\u3002\uff0e\uff61"  # ASCII, ideographic, fullwidth, halfwidth ideographic
_LABEL = r"[^\W_][\w-]{0,62}+"
# Spaced or spoken separators are only taken before one of a few common TLDs, so
# prose like "the end. Then" or "connect the dot and" never becomes a host.
_SPACED_TLD = r"(?=(?:com|net|org|ru|info|biz)\b)"
_SEP = (
    rf"(?:[{_DOTS}]"
    rf"|\x20{{0,3}}[\[({{]\x20?(?:[{_DOTS}]|dot)\x20?[\])}}]\x20{{0,3}}"
    rf"|\x20{{1,3}}dot\x20{{1,3}}{_SPACED_TLD}"
    rf"|(?:\x20{{1,3}}\.\x20{{0,3}}|\.\x20{{1,3}}){_SPACED_TLD}"
    r")"
)
_SCHEME = r"(?:h(?:tt|xx|\*\*)ps?|s?ftps?)(?::|\[:\])//"

_URL_RE = re.compile(
    rf"""
    (?<![\w@\-])                                   # never start inside a word or an email
    (?:
        (?P<scheme>{_SCHEME})
        (?P<userinfo>[^\s/@?#]{{1,256}}+@)?
        (?P<shost>\[[0-9a-f:.]{{2,45}}\]|{_LABEL}(?:{_SEP}{_LABEL}){{0,40}}+)
      |
        (?P<bhost>{_LABEL}(?:{_SEP}{_LABEL}){{1,40}}+)
    )
    (?::(?P<port>\d{{1,5}})(?!\d))?
    (?P<path>[/?\#][^\s<>"\u201c\u201d\u00ab\u00bb]*+)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SEP_RE = re.compile(_SEP, re.IGNORECASE)
# The cheap first look: a URL needs a dot between two word characters, a bracketed or
# spaced dot before a TLD, a spoken "dot", or "://". The regex starts with a small
# character class, which the stdlib engine scans for quickly; the full pattern, tried
# at every word start, costs ten times more and runs only when this one matches.
_ANCHOR_RE = re.compile(
    rf"[{_DOTS}](?:(?<=[^\W_].)(?=[^\W_])|\x20?[\])}}]|\x20{{0,3}}(?:com|net|org|ru|info|biz)\b)",
    re.IGNORECASE,
)
_SPOKEN_DOT_RE = re.compile(r"[\x20\[({]dot[\x20\])}]", re.IGNORECASE)
_SCHEME_MARK_RE = re.compile(r"(?::|\[:\])//")  # "://" or defanged "[:]//"
# Window sizes around anchors (see _windows): a label is at most 63 characters, a
# separator at most about a dozen, a scheme ten, userinfo 257.
_DOT_REACH, _DOT_WINDOW = 72, 80
_SCHEME_REACH, _SCHEME_WINDOW = 12, 340
# Invisible format characters (zero-width, bidi, soft hyphen) used to break up URLs.
_FORMAT_RE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")

# The prefilter's form of "a URL may be here" (RE2, on the raw text): a superset of
# everything `_windows` anchors on, so a comment it misses has no URL and no links rule
# can hold. RE2's \s, \b and case folding are narrower than Python's, hence the spelt-out
# classes (`[^\s_<dots>]` covers every word character; ı and İ fold to i in Python's re).
_D = ".\\x{3002}\\x{ff0e}\\x{ff61}"
_URL_CUE_RE2 = (
    rf"[^\s_{_D}][{_D}][^\s_{_D}]|[{_D}] ?[\])}}]|[{_D}] {{0,3}}(?i:com|net|org|ru|[iıİ]nfo|b[iıİ]z)"
    r"|//|(?i:dot)|[\x{00ad}\x{200b}-\x{200f}\x{202a}-\x{202e}\x{2060}-\x{2064}\x{feff}]"
)

_CIDR_RE = re.compile(r"/\d{1,2}")  # 10.0.0.0/8 is a network, not a link
_TRAILING_PUNCT = ".,;:!?'\"*\u2026"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


# -------------------------------------------------------------------- extraction


@dataclass(frozen=True, slots=True)
class UrlMatch:
    """One URL found in a text; `start`/`end` index the text that was scanned."""

    start: int
    end: int
    text: str  # the URL as written (may be defanged or obfuscated)
    host: str  # lower-case, dots restored, Unicode kept ("пример.рф", "bit.ly")
    ascii_host: str  # IDNA (punycode) form, used for list matching
    path: str  # path, query and fragment as written ("" when none)
    scheme: str | None  # "http", "https", "ftp"... (defanged "hxxp" reads "http")
    port: int | None = None
    is_ip: bool = False  # the host is an IP literal
    obfuscated: bool = False  # defanged scheme or a "[.]" / "dot" separator

    @property
    def display(self) -> str:
        """host + path, shortened, for messages."""
        shown = self.host + self.path
        return shown if len(shown) <= 80 else shown[:77] + "..."


def extract_urls(text: str) -> list[UrlMatch]:
    """Every URL in `text`, in order, with offsets into `text`."""
    if _FORMAT_RE.search(text) is None:
        return _scan(text)
    # Scan with the invisible characters removed, then map offsets back: removal j
    # sits just before clean offset shifted[j], so a clean offset c is raw offset
    # c + (number of removals at or before c).
    clean = _FORMAT_RE.sub("", text)
    shifted = [m.start() - j for j, m in enumerate(_FORMAT_RE.finditer(text))]
    out: list[UrlMatch] = []
    for url in _scan(clean):
        start = url.start + bisect_right(shifted, url.start)
        end = url.end + bisect_right(shifted, url.end - 1)
        hidden = end - start != url.end - url.start  # invisible characters inside
        out.append(_replace_span(url, start, end, text[start:end], hidden))
    return out


def _windows(text: str) -> list[tuple[int, int]]:
    """Merged [start, end) ranges around every anchor; every URL starts inside one.

    A schemeless URL starts at most one label (and a bracket) before its first
    separator and its shortest form ends one label after it; a URL with a scheme
    starts just before its "://" and its shortest form ends after userinfo and one
    label. Scanning only these ranges finds every URL a scan of the whole text finds.
    """
    spans = [(m.start() - _DOT_REACH, m.start() + _DOT_WINDOW) for m in _ANCHOR_RE.finditer(text)]
    if "//" in text:
        spans += [
            (m.start() - _SCHEME_REACH, m.end() + _SCHEME_WINDOW)
            for m in _SCHEME_MARK_RE.finditer(text)
        ]
    if "dot" in text or "DOT" in text or "Dot" in text:
        spans += [
            (m.start() - _DOT_REACH, m.end() + _DOT_WINDOW) for m in _SPOKEN_DOT_RE.finditer(text)
        ]
    if not spans:
        return []
    spans.sort()
    windows: list[tuple[int, int]] = []
    for lo, hi in spans:
        if windows and lo <= windows[-1][1]:
            if hi > windows[-1][1]:
                windows[-1] = (windows[-1][0], hi)
        else:
            windows.append((max(0, lo), hi))
    return [(lo, min(hi, len(text))) for lo, hi in windows]


def _replace_span(url: UrlMatch, start: int, end: int, text: str, hidden: bool) -> UrlMatch:
    return UrlMatch(
        start, end, text, url.host, url.ascii_host, url.path, url.scheme,
        url.port, url.is_ip, url.obfuscated or hidden,
    )  # fmt: skip


def _scan(text: str) -> list[UrlMatch]:
    out: list[UrlMatch] = []
    pos = 0
    for lo, hi in _windows(text):
        lo = max(lo, pos)
        while lo < hi:
            # Find where a candidate starts within the window, then match it on the
            # whole text so its path may run past the window.
            found = _URL_RE.search(text, lo, hi)
            if found is None:
                break
            m = _URL_RE.match(text, found.start())
            if m is None:  # cannot happen: a longer text only extends a match
                break
            url = _vet(m, text)
            if url is not None:
                out.append(url)
            lo = pos = max(m.end(), found.start() + 1)
    return out


@dataclass(slots=True)
class _Host:
    labels: list[str]  # as written
    ends: list[int]  # end offset of each label inside the host text
    seps: list[str]  # separators between labels, as written


def _split_host(raw: str) -> _Host:
    labels: list[str] = []
    ends: list[int] = []
    seps: list[str] = []
    pos = 0
    for sep in _SEP_RE.finditer(raw):
        labels.append(raw[pos : sep.start()])
        ends.append(sep.start())
        seps.append(sep.group())
        pos = sep.end()
    labels.append(raw[pos:])
    ends.append(len(raw))
    return _Host(labels, ends, seps)


def _vet(m: re.Match[str], text: str) -> UrlMatch | None:
    """Turn a regex candidate into a URL, or reject it."""
    scheme_raw = m.group("scheme")
    host_raw = m.group("shost") if scheme_raw else m.group("bhost")
    host_start = m.start("shost") if scheme_raw else m.start("bhost")
    path = m.group("path") or ""
    port_text = m.group("port")
    port = int(port_text) if port_text else None

    if host_raw.startswith("["):  # IPv6 literal, only reachable with a scheme
        try:
            ipaddress.IPv6Address(host_raw[1:-1])
        except ValueError:
            return None
        host = host_raw[1:-1].lower()
        return _make(m, text, host_start + len(host_raw), host, path, port, scheme_raw, True, False)

    parts = _split_host(host_raw)
    labels = [label.lower() for label in parts.labels]
    obfuscated = any(sep not in _DOTS for sep in parts.seps)
    if any(label.endswith(("-", "_")) or label.startswith("-") for label in labels):
        return None
    host_end = host_start + len(host_raw)

    if scheme_raw:
        is_ip = _is_ip_host(labels, loose=True)
        if len(labels) < 2 and not is_ip and labels[0] != "localhost":
            return None
    else:
        if host_end < len(text) and text[host_end] == "@" and not path and port is None:
            return None  # the local part of an email address
        is_ip = _is_ip_host(labels, loose=False)
        if is_ip:
            if port is None and (not path or _CIDR_RE.fullmatch(path)):
                return None  # a bare dotted quad is as likely a version as a host
        else:
            cut = _bare_domain_cut(parts, labels, bool(path) or port is not None)
            if cut is None:
                return None
            if cut < len(labels) - 1:  # trailing labels were a sentence: "site.com.Then"
                labels = labels[: cut + 1]
                host_end = host_start + parts.ends[cut]
                path, port = "", None
    host = ".".join(labels)
    return _make(m, text, host_end, host, path, port, scheme_raw, is_ip, obfuscated)


def _make(
    m: re.Match[str],
    text: str,
    host_end: int,
    host: str,
    path: str,
    port: int | None,
    scheme_raw: str | None,
    is_ip: bool,
    obfuscated: bool,
) -> UrlMatch:
    path = _trim_path(path)
    end = host_end
    if port is not None:
        end = m.end("port")
    if path:
        end = m.start("path") + len(path)
    scheme = None
    if scheme_raw:
        scheme = _normalize_scheme(scheme_raw)
        written = scheme_raw.lower()
        defanged = "[" in written or not written.startswith(("http", "ftp", "sftp"))
        obfuscated = obfuscated or defanged
    start = m.start()
    return UrlMatch(
        start=start,
        end=end,
        text=text[start:end],
        host=host,
        ascii_host=to_ascii_host(host),
        path=path,
        scheme=scheme,
        port=port,
        is_ip=is_ip,
        obfuscated=obfuscated,
    )


def _normalize_scheme(raw: str) -> str:
    name = raw.split(":", 1)[0].split("[", 1)[0].lower()
    if name.startswith("h"):
        return "https" if name.endswith("s") else "http"
    return name


def _trim_path(path: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from the end."""
    end = len(path)
    openers = {closer: path.count(opener) for closer, opener in _CLOSERS.items()}
    closers = {closer: path.count(closer) for closer in _CLOSERS}
    while end:
        last = path[end - 1]
        if last in _CLOSERS and closers[last] > openers[last]:
            closers[last] -= 1
        elif last not in _TRAILING_PUNCT:
            break
        end -= 1
    return path[:end]


def _is_tld(label: str) -> bool:
    return label in TLDS or (label.startswith("xn--") and len(label) > 4)


def _bare_domain_cut(parts: _Host, labels: list[str], has_path: bool) -> int | None:
    """Index of the TLD label of a schemeless domain, or None when it is not a domain."""
    cut = next((k for k in range(len(labels) - 1, 0, -1) if _is_tld(labels[k])), None)
    if cut is None:
        return None
    has_path = has_path and cut == len(labels) - 1
    tld, tld_raw, names = labels[cut], parts.labels[cut], labels[:cut]
    if names[0] in ("www", "www1", "www2", "www3"):
        return cut  # explicit enough whatever the TLD looks like
    for i, sep in enumerate(parts.seps[:cut]):
        # A spoken "dot" in prose: "the dot com bubble" is not the.com.
        if sep[0] == " " and sep.strip().lower() == "dot" and labels[i] in _DOT_WORD_STOPWORDS:
            return None
    if has_path:
        return cut
    if all(len(name) == 1 for name in names):
        return None  # abbreviations: "U.S.", "e.g.", "a.m."
    if len(tld_raw) > 1 and tld_raw[0].isupper() and tld_raw[1:].islower():
        return None  # a sentence break: "end.The", "Mr.Smith", "time.In"
    if cut == 1 and tld in _WEAK_TLDS:
        return None  # "end.in", "it.is", "over.today"
    if cut == 1 and tld in _FILE_LIKE_TLDS:
        return None  # "report.zip", "main.py"
    if all(name.isdigit() for name in names):
        return None  # times and prices: "6.00.pm", "2.com"
    return cut


def _is_ip_host(labels: Sequence[str], *, loose: bool) -> bool:
    """A dotted quad; with `loose`, also the integer/hex/octal forms browsers accept."""
    if len(labels) == 4 and all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(".".join(labels))
            return True
        except ValueError:
            pass
    if not loose or not 1 <= len(labels) <= 4:
        return False
    parts = [_numeric_part(label) for label in labels]
    if any(part is None for part in parts):
        return False
    # One number is a whole address (http://3232235777); a small one is no host.
    first = parts[0] or 0
    return first >= 1 << 24 if len(parts) == 1 else first <= 255


def _numeric_part(label: str) -> int | None:
    try:
        if label.startswith("0x"):
            return int(label, 16)
        if label.isascii() and label.isdigit():
            return int(label, 8) if len(label) > 1 and label.startswith("0") else int(label)
    except ValueError:
        return None
    return None


def to_ascii_host(host: str) -> str:
    """The IDNA (punycode) form of a host; the host itself when it cannot be encoded."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return host


def to_unicode_host(host: str) -> str:
    """The readable Unicode form of a punycode host."""
    if "xn--" not in host:
        return host
    try:
        return idna.decode(host)
    except (idna.IDNAError, UnicodeError, ValueError):
        return host


def registered_domain(host: str) -> str:
    """The domain a registrant owns: a.b.example.co.uk -> example.co.uk (heuristic)."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def document_urls(doc: Document) -> list[UrlMatch]:
    """The URLs of a comment (raw-text offsets), computed once and shared."""
    return doc.signal("urls", _document_urls)


def _document_urls(doc: Document) -> list[UrlMatch]:
    return extract_urls(doc.text)


# ------------------------------------------------------------------- host lists


class HostSet:
    """Hosts from list files; a host matches when it or any parent domain is listed."""

    __slots__ = ("hosts",)

    def __init__(self, hosts: Iterable[str] = ()) -> None:
        self.hosts: frozenset[str] = frozenset(h for h in map(_normalize_entry, hosts) if h)

    def __bool__(self) -> bool:
        return bool(self.hosts)

    @classmethod
    def union(cls, sets: Iterable[HostSet]) -> HostSet:
        merged = cls()
        merged.hosts = frozenset().union(*(s.hosts for s in sets))
        return merged

    def lookup(self, ascii_host: str) -> str | None:
        """The listed entry that covers this host, or None."""
        if not self.hosts:
            return None
        host = ascii_host
        while True:
            if host in self.hosts:
                return host
            dot = host.find(".")
            if dot < 0:
                return None
            host = host[dot + 1 :]

    @classmethod
    def from_file(cls, path: Path) -> HostSet:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise PredicateError(f"cannot read host list {path}: {exc}") from exc
        return cls(_entry_from_line(line) for line in lines)


def _entry_from_line(line: str) -> str:
    tokens = line.split("#", 1)[0].split()
    if not tokens:
        return ""
    # hosts-file lines ("0.0.0.0 evil.example") name the host second.
    if len(tokens) >= 2 and _is_ip_host(tokens[0].split("."), loose=False):
        return tokens[1]
    return tokens[0]


def _normalize_entry(entry: str) -> str:
    entry = entry.strip().lower()
    if "://" in entry:  # a pasted URL: keep its host
        entry = entry.split("://", 1)[1]
    entry = entry.split("/", 1)[0].split("@")[-1]
    entry = entry.removeprefix("*.").strip(".")
    return to_ascii_host(entry) if entry else ""


# -------------------------------------------------------------------- look-alikes

# Brands that phishing and malware links most often imitate; `brands:` adds more and
# the site's own name and aliases are always added.
DEFAULT_BRANDS: tuple[str, ...] = (
    "paypal", "google", "gmail", "youtube", "microsoft", "outlook", "apple", "icloud",
    "amazon", "facebook", "instagram", "whatsapp", "telegram", "twitter", "linkedin",
    "netflix", "ebay", "steam", "steamcommunity", "binance", "coinbase", "metamask",
    "blockchain", "yahoo", "yandex", "sberbank", "tinkoff", "gosuslugi", "vkontakte",
    "dhl", "fedex", "usps", "wellsfargo", "bankofamerica", "mastercard",
)  # fmt: skip

# Words that phishing hosts put next to a brand ("paypal-login", "apple-id-verify").
_LURE_WORDS = (
    "login", "logon", "signin", "secure", "security", "verify", "verification", "account",
    "update", "support", "billing", "wallet", "auth", "confirm", "recovery", "unlock",
    "helpdesk", "official", "bonus", "gift", "giveaway", "prize", "reward", "airdrop",
    "refund", "password", "alert",
)  # fmt: skip

_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ӏ": "l", "ԛ": "q", "ԝ": "w", "к": "k",
        "м": "m", "т": "t", "н": "h", "в": "b", "ɡ": "g", "ı": "i", "ο": "o", "α": "a",
        "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "ε": "e", "χ": "x", "υ": "u",
    }
)  # fmt: skip


def _fold_variants(label: str) -> set[str]:
    """What a label may be read as: homoglyphs, accents and leet digits undone."""
    base = unicodedata.normalize("NFKD", label.translate(_HOMOGLYPHS))
    base = "".join(ch for ch in base if not unicodedata.combining(ch)).replace("-", "")
    folded = base.translate(_LEET)
    variants = {folded, folded.replace("l", "i") if "1" in base else folded}
    variants |= {v.replace("rn", "m").replace("vv", "w") for v in variants}
    return variants


def _within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]


def lookalike_brand(host: str, brands: Iterable[str]) -> str | None:
    """The brand a host imitates, or None. `host` is the Unicode form, lower case.

    A host imitates a brand when it is not on the brand's own registered name and
    (a) spells the brand with look-alike characters (paypa1, g00gle, аpple in
    Cyrillic, rnicrosoft), (b) is one typo away from a long brand name (gooogle),
    (c) carries the brand's domain inside another domain (paypal.com.secure-login.ru),
    or (d) pairs the brand with a phishing lure word (paypal-login, microsoft-support).
    """
    labels = host.split(".")
    if len(labels) < 2 or _is_ip_host(labels, loose=True):
        return None
    registered = registered_domain(host)
    sld = registered.split(".")[0]
    subs = labels[: len(labels) - registered.count(".") - 1]
    brands = list(brands)
    if sld in brands:
        return None  # the brand's own domain under any TLD
    names = [*subs, sld]
    readings = [(name.replace("-", ""), _fold_variants(name)) for name in names]
    for brand in brands:
        if _imitates(brand, host, sld, names, readings):
            return brand
    return None


def _imitates(
    brand: str, host: str, sld: str, names: list[str], readings: list[tuple[str, set[str]]]
) -> bool:
    # (c) "paypal.com.evil.ru", "paypal.com-secure.ru"
    for tld in ("com", "net", "org"):
        key = f"{brand}.{tld}"
        at = host.find(key)
        if (
            at >= 0
            and (at == 0 or host[at - 1] in ".-")
            and host[at + len(key) : at + len(key) + 1] in (".", "-")
        ):
            return True
    # (a) look-alike characters that spell the brand
    for plain_name, variants in readings:
        if brand not in plain_name:
            for variant in variants:
                if variant == brand or (len(brand) >= 5 and brand in variant):
                    return True
    # (d) the brand as a word of the host next to a lure word
    if _brand_with_lure(brand, [part for name in names for part in name.split("-")]):
        return True
    # (b) a typo of a long brand name that keeps its first letter, not a plural
    plain = sld.replace("-", "")
    return (
        len(brand) >= 6
        and plain.isalpha()
        and plain[:1] == brand[0]
        and plain != brand + "s"
        and _within_one_edit(plain, brand)
    )


def _brand_with_lure(brand: str, parts: list[str]) -> bool:
    """Brand and lure in a host: paypal-login, applesupport, securepaypal; not pineapple."""
    has_brand = has_lure = False
    for part in parts:
        if part == brand:
            has_brand = True
            continue
        if part.startswith(brand):
            rest = part[len(brand) :]
        elif part.endswith(brand):
            rest = part[: -len(brand)]
        else:
            rest = ""
        if rest and _has_lure(rest):
            return True
        has_lure = has_lure or _has_lure(part)
    return has_brand and has_lure


def _has_lure(text: str) -> bool:
    return any(word in text for word in _LURE_WORDS)


def brand_tokens(names: Iterable[str]) -> list[str]:
    """Brand keys from display names: "Sputnik News" -> "sputniknews"."""
    out: list[str] = []
    for name in names:
        key = "".join(ch for ch in name.lower() if ch.isalnum())
        if len(key) >= 3 and key not in out:
            out.append(key)
    return out


# ------------------------------------------------------------------- predicate

LinkKind = Literal[
    "any", "denied", "shortener", "executable", "ip-host", "punycode", "lookalike", "not-allowed"
]
# When several kinds are asked for, a URL is described by the most telling one.
_KIND_ORDER: tuple[LinkKind, ...] = (
    "denied", "executable", "lookalike", "ip-host", "punycode", "shortener", "not-allowed", "any",
)  # fmt: skip

# Downloads a comment has no business linking: executables, scripts, installers, archives.
_EXECUTABLE_RE = re.compile(
    r"\.(?:exe|scr|bat|cmd|msi|msp|msix|appx|apk|xapk|ipa|jar|vbs|vbe|js|jse|wsf|wsh|hta"
    r"|ps1|psm1|dll|cpl|lnk|pif|reg|sys|run|bin|sh|elf|deb|rpm|appimage|pkg|dmg|iso|img|vhd"
    r"|zip|rar|7z|tar|gz|tgz|bz2|xz|cab|ace|arj|docm|xlsm|pptm)(?=$|[?#&;])",
    re.IGNORECASE,
)

# Default list files: used when a rule names none and the ruleset has them.
DEFAULT_LISTS = {
    "deny": "lists/malware-hosts.txt",
    "allow": "lists/allowed-domains.txt",
    "shorteners": "lists/url-shorteners.txt",
}

ListFiles = tuple[str, ...] | None


class LinksConfig(PredicateConfig):
    min_count: int = Field(default=1, ge=1)
    kinds: tuple[LinkKind, ...] = Field(default=("any",), min_length=1)
    deny: ListFiles = None
    allow: ListFiles = None
    shorteners: ListFiles = None
    brands: tuple[str, ...] = ()  # more brand names for `lookalike`

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `links:` alone, `links: shortener`, `links: [shortener, ip-host]`, `links: 3`
        if value is None:
            return {}
        if isinstance(value, str):
            return {"kinds": [value]}
        if isinstance(value, list):
            return {"kinds": value}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"min_count": value}
        return value

    @field_validator("deny", "allow", "shorteners", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("kinds")
    @classmethod
    def _dedupe(cls, value: tuple[LinkKind, ...]) -> tuple[LinkKind, ...]:
        return tuple(dict.fromkeys(value))


def _load_hosts(files: ListFiles, default: str, ctx: CompileContext) -> HostSet:
    if files is None:
        base = ctx.ruleset_dir
        if base is None or not (base / default).is_file():
            return HostSet()
        files = (default,)
    sets = []
    for name in files:
        path = ctx.resolve(name)
        sets.append(
            ctx.shared(("links.hosts", str(path.resolve())), partial(HostSet.from_file, path))
        )
    return sets[0] if len(sets) == 1 else HostSet.union(sets)


@register
class Links(Predicate):
    """URLs of the configured kinds, at least `min_count` of them."""

    name = "links"
    Config = LinksConfig
    config: LinksConfig

    def __init__(self, config: LinksConfig, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        self._deny = _load_hosts(config.deny, DEFAULT_LISTS["deny"], ctx)
        self._allow = _load_hosts(config.allow, DEFAULT_LISTS["allow"], ctx)
        self._shorteners = _load_hosts(config.shorteners, DEFAULT_LISTS["shorteners"], ctx)
        self._want_denied = "denied" in config.kinds
        self._kinds = [k for k in _KIND_ORDER if k in config.kinds and k != "denied"]
        names = [*DEFAULT_BRANDS, *config.brands, ctx.site_name, *ctx.site_aliases]
        self._brands = brand_tokens(names)
        self._lookalikes: dict[str, str | None] = {}
        bank: PatternBank = ctx.shared("pattern-bank", PatternBank)
        self._cue = bank.add_re2("raw", _URL_CUE_RE2)

    def triggers(self) -> frozenset[tuple[str, int]] | None:
        # min_count >= 1: without a URL cue there is no URL, so the predicate cannot hold.
        return None if self._cue is None else frozenset({("raw", self._cue)})

    def evaluate(self, doc: Document) -> Hit | None:
        urls = document_urls(doc)
        if len(urls) < self.config.min_count:
            return None
        counted: list[tuple[UrlMatch, str]] = []
        for url in urls:
            detail = self.describe(url)
            if detail is not None:
                counted.append((url, detail))
        if len(counted) < self.config.min_count:
            return None
        details = [d for _, d in counted[:3]]
        more = len(counted) - len(details)
        detail = "; ".join(details) + (f" (+{more} more)" if more else "")
        return Hit(spans=[Span(u.start, u.end) for u, _ in counted], detail=detail)

    def describe(self, url: UrlMatch) -> str | None:
        """Why this URL counts for the configured kinds, or None when it does not."""
        host = url.ascii_host
        if self._want_denied and self._deny.lookup(host):
            return f"denied host {url.host}"
        if self._allow.lookup(host):
            return None
        for kind in self._kinds:
            detail = self._kind_detail(kind, url)
            if detail is not None:
                return detail
        return None

    def _kind_detail(self, kind: LinkKind, url: UrlMatch) -> str | None:
        if kind == "executable":
            path = url.path.split("#", 1)[0]
            hit = _EXECUTABLE_RE.search(path)
            return f"executable download {url.display}" if hit else None
        if kind == "lookalike":
            brand = self._lookalike(url)
            return f"look-alike of {brand}: {url.host}" if brand else None
        if kind == "ip-host":
            return f"IP-address host {url.host}" if url.is_ip else None
        if kind == "punycode":
            return f"punycode host {url.ascii_host}" if _is_punycode(url) else None
        if kind == "shortener":
            return f"shortener {url.host}" if self._shorteners.lookup(url.ascii_host) else None
        if kind == "not-allowed":
            return f"link to {url.host}"
        if kind == "any":
            return f"link {url.display}"
        return None  # "denied" is handled before the allow list

    def _lookalike(self, url: UrlMatch) -> str | None:
        host = to_unicode_host(url.ascii_host) if not url.is_ip else url.host
        if host not in self._lookalikes:
            if len(self._lookalikes) > 4096:
                self._lookalikes.clear()
            self._lookalikes[host] = lookalike_brand(host, self._brands)
        return self._lookalikes[host]


def _is_punycode(url: UrlMatch) -> bool:
    return not url.host.isascii() or any(
        label.startswith("xn--") for label in url.ascii_host.split(".")
    )
