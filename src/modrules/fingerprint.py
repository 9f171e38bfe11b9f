"""What the stateful checks remember of a comment's text: a MinHash signature with LSH
band keys (near duplicates share a band) and an incoherence score (gibberish, key-mash,
repetition), computed once per comment from its normalised words.

Signatures are deterministic (fixed seeds, crc32 rather than Python's salted `hash`),
so band keys written to a store by one run or process match those of another.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from itertools import filterfalse

import numpy as np
import regex

from modrules.text import fold_key

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS  # 4 rows a band: pairs above Jaccard ~0.5 usually share one
assert NUM_PERM == 64  # `agreements` counts a signature's matches as one uint64 of bits
MAX_CHARS = 5000  # a comment's head is enough to fingerprint it (hostile text stays cheap)
MAX_SHINGLES = 150  # words: a copy is recognised by its head

# The 64 "permutations" of 32-bit shingle hashes: multiplying by an odd constant, then
# folding the high bits down (x ^= x >> 15), both bijections on 32 bits; cheap uint32
# numpy operations. Fixed seed: signatures must match across runs and processes.
_A = (np.random.RandomState(1).randint(1, 1 << 31, size=NUM_PERM, dtype=np.uint32) * 2 + 1).astype(
    np.uint32
)
_FOLD = np.uint32(15)
_SHIFT = np.uint64(32)

_TOKEN = regex.compile(r"[\p{L}\p{N}]+")
# ASCII letters and digits lower-cased, everything else a space: one C-level pass.
_ASCII_WORDS = bytes(ord(chr(c).lower()) if chr(c).isalnum() else 32 for c in range(256))
_TOKEN_HASHES: dict[str, int] = {}
_PAIR = np.uint64(0x9E3779B97F4A7C15)  # odd multipliers: both words reach the high bits
_PAIR2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PAIR_SALT = np.uint64(0x5BD1E995)  # keeps a pair's hash apart from a word's
_BAND_SALTS = np.random.RandomState(2).randint(0, 1 << 63, size=BANDS, dtype=np.uint64)
_LETTER = regex.compile(r"\p{L}")
_VOWELS = frozenset("aeiouyàáâäèéêëìíîïòóôöùúûü")

# Function words and the stock phrases of short replies ("Agreed.", "Well said",
# "Thanks for sharing", "+1"): they carry no content, so a text made of them is never
# informative enough to count towards a flash mob, however many people post it.
STOCK_WORDS = frozenset(
    """
    a an the and or but if so to of in on at by for with from as is are was were be been
    being am do does did done have has had i me my you your we our us he him his she her it
    its they them their this that these those there here what which who whom how why when
    where not no yes yeah yep nope ok okay oh ah just very really too also all any some
    more most much many can could will would shall should may might must than then now well
    said say says agree agreed agrees totally completely absolutely exactly true right
    correct indeed sure great good nice excellent brilliant fine thanks thank thx ty cheers
    lol lmao haha hahaha wow omg plus one 1 2 article post comment comments point points
    sharing share spot same love like lot lots dear sir friend friends people man guys
    everyone bravo amen hear
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
_KEY_NEIGHBOURS = frozenset(
    pair
    for row in _KEY_ROWS
    for i in range(len(row) - 1)
    for pair in (row[i : i + 2], row[i + 1] + row[i])
)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A comment as the window remembers it."""

    signature: np.ndarray  # NUM_PERM uint32 minima
    bands: tuple[int, ...]  # LSH band keys; empty when not informative enough for a mob
    incoherence: float  # 0 coherent … 1 gibberish
    informative: bool


def words(text: str) -> list[str]:
    """The normalised words of a text: NFKC, case-folded, homoglyphs folded; emoji and
    punctuation dropped."""
    head = text[:MAX_CHARS]
    if head.isascii():  # the common case, without the Unicode folding
        return head.encode().translate(_ASCII_WORDS).decode().split()
    found: list[str] = _TOKEN.findall(fold_key(head))
    return found


def _token_hashes(tokens: list[str]) -> list[int]:
    cache = _TOKEN_HASHES
    if len(cache) > 1 << 18:  # bounded: hostile input may bring endless new words
        cache.clear()
    out: list[int | None] = list(map(cache.get, tokens))  # known words: one C loop
    if None in out:
        for i, token in enumerate(tokens):
            if out[i] is None:
                out[i] = cache[token] = zlib.crc32(token.encode("utf-8", "replace"))
    return out  # type: ignore[return-value]  # no None left


def signatures(token_lists: list[list[str]]) -> np.ndarray:
    """MinHash signatures (one row per list) of the words and word pairs of each list's
    first MAX_SHINGLES words — words survive reordering, pairs keep some word order —
    in one vectorised pass for the whole batch. An empty list gets all-ones."""
    out = np.full((len(token_lists), NUM_PERM), 0xFFFFFFFF, dtype=np.uint32)
    hashes: list[int] = []
    starts: list[int] = []
    rows: list[int] = []
    for row, tokens in enumerate(token_lists):
        if tokens:
            rows.append(row)
            starts.append(len(hashes))
            hashes.extend(_token_hashes(tokens[:MAX_SHINGLES]))
    if not rows:
        return out
    flat = np.array(hashes, dtype=np.uint64)
    firsts = np.array(starts, dtype=np.intp)
    # Each word with the next: a pair's own 32-bit hash. Across two lists (and after the
    # last word) there is no pair; that slot repeats the word's hash instead (a duplicate
    # changes no minimum). Words and pairs are reduced apart, then the two minima taken:
    # no sort to bring each list's shingles together.
    pairs = np.empty_like(flat)
    pairs[:-1] = ((flat[:-1] * _PAIR + flat[1:] * _PAIR2) >> _SHIFT) ^ _PAIR_SALT
    ends = firsts[1:] - 1
    pairs[ends] = flat[ends]
    pairs[-1] = flat[-1]
    out[rows] = np.minimum(_min_permuted(flat, firsts), _min_permuted(pairs, firsts))
    return out


def _min_permuted(shingles: np.ndarray, firsts: np.ndarray) -> np.ndarray:
    """The minimum of each segment (starting at `firsts`) under each permutation."""
    permuted = shingles.astype(np.uint32)[:, None] * _A
    permuted ^= permuted >> _FOLD
    minima: np.ndarray = np.minimum.reduceat(permuted, firsts, axis=0)
    return minima


def minhash(tokens: list[str]) -> np.ndarray:
    """The MinHash signature of one list of words."""
    result: np.ndarray = signatures([tokens])[0]
    return result


def band_keys(signatures_: np.ndarray) -> list[tuple[int, ...]]:
    """LSH band keys of each signature row: one integer per band of ROWS values."""
    halves = np.ascontiguousarray(signatures_).view(np.uint64)  # two rows' values per item
    keys = (halves[:, 0::2] * _PAIR) ^ halves[:, 1::2] ^ _BAND_SALTS
    return [tuple(row) for row in keys.tolist()]


def agreements(equal: np.ndarray) -> np.ndarray:
    """`equal.sum(axis=-1)` for a boolean array whose last axis is NUM_PERM long, at a
    third of the cost: numpy sums booleans one by one, while packed eight to a byte they
    are counted a uint64 (NUM_PERM of them) at a time."""
    if not hasattr(np, "bitwise_count"):  # numpy < 2
        total: np.ndarray = equal.sum(axis=-1)
        return total
    packed = np.packbits(equal, axis=-1).view(np.uint64)
    counts: np.ndarray = np.bitwise_count(packed)[..., 0]
    return counts


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


# Fingerprints of recent short texts: a sixth of a comment stream can be verbatim copies
# (a mob pasting its text), each fingerprinted once. Bounded, oldest forgotten first.
_RECENT: dict[tuple[int, str], Fingerprint] = {}
MAX_RECENT = 8192
MAX_CACHED_CHARS = 2000


def fingerprints(texts: list[str], min_content_words: int = 4) -> list[Fingerprint]:
    """The fingerprints of a batch of comments (one numpy pass for the signatures)."""
    recent = _RECENT
    found = [recent.get((min_content_words, text)) for text in texts]
    todo = list(dict.fromkeys(t for t, fp in zip(texts, found, strict=True) if fp is None))
    if not todo:
        return found  # type: ignore[return-value]  # no None left
    fresh = dict(zip(todo, _fingerprints(todo, min_content_words), strict=True))
    for text, fp in fresh.items():
        if len(text) <= MAX_CACHED_CHARS:
            if len(recent) >= MAX_RECENT:
                del recent[next(iter(recent))]
            # Its own copy of the signature: a row of the batch's array would keep the
            # whole batch alive.
            signature = fp.signature.copy()
            signature.flags.writeable = False
            recent[min_content_words, text] = Fingerprint(
                signature, fp.bands, fp.incoherence, fp.informative
            )
    return [fresh[t] if fp is None else fp for t, fp in zip(texts, found, strict=True)]


def _fingerprints(texts: list[str], min_content_words: int) -> list[Fingerprint]:
    token_lists = [words(text) for text in texts]
    stock = STOCK_WORDS.__contains__
    contents = [list(filterfalse(stock, tokens)) for tokens in token_lists]
    informative = [_informative(content, min_content_words) for content in contents]
    # Similarity is on the content words: function words and stock phrases would make
    # formulaic but different comments ("Can we get a follow-up on X? ...") look alike,
    # while a mob's copies share what they say.
    sigs = signatures(
        [
            content if ok else tokens
            for content, tokens, ok in zip(contents, token_lists, informative, strict=True)
        ]
    )
    sigs.flags.writeable = False  # shared by every copy of a text (see `_RECENT`)
    keys = band_keys(sigs)
    return [
        Fingerprint(
            signature=sigs[i],
            bands=keys[i] if informative[i] else (),
            incoherence=incoherence(texts[i], token_lists[i]),
            informative=informative[i],
        )
        for i in range(len(texts))
    ]


def _informative(content: list[str], min_content_words: int) -> bool:
    """At least `min_content_words` distinct content words that are not bare numbers."""
    distinct = set(content)
    if len(distinct) < min_content_words:
        return False
    return len(distinct) - sum(map(str.isdigit, distinct)) >= min_content_words


def fingerprint(text: str, min_content_words: int = 4) -> Fingerprint:
    return fingerprints([text], min_content_words)[0]


def incoherence(text: str, tokens: list[str] | None = None) -> float:
    """How much a comment looks like noise rather than language, 0 … 1.

    The strongest of: no letters at all ("?????"), one character or a short unit
    repeated ("aaaaaa", "lololol", "hjkhjkhjk"), words without vowels or typed along a
    keyboard row ("zxcvbnm", "qwerty"), the same few words over and over ("bus bus
    bus"), and — weaker, since real replies can be one word — a bare word or two.
    Stock replies ("Agreed.", "Well said") score low.
    """
    head = text[:MAX_CHARS]
    if tokens is None:
        tokens = words(head)
    if not head.strip():
        return 0.0
    if not _LETTER.search(head):
        return 1.0 if len("".join(head.split())) >= 3 else 0.5
    scores = [0.0]
    if len(tokens) <= 3:
        letters = "".join(t for t in tokens if not t.isdigit())
        if len(letters) >= 5 and (len(set(letters)) <= 2 or _periodic(letters)):
            return 1.0
    if tokens:
        scores.append(_mashed_count(tokens) / len(tokens))
    if len(tokens) >= 2:
        scores.append(1.0 - len(set(tokens)) / len(tokens))
    if len(tokens) <= 2:
        # A bare word or two: little language, though stock replies ("Agreed.",
        # "Well said") are real ones.
        scores.append(0.1 if all(t in STOCK_WORDS for t in tokens) else 0.4)
    return round(max(scores), 3)


def _periodic(s: str, max_unit: int = 4) -> bool:
    """Whether `s` is a unit of at most `max_unit` characters repeated ("hjkhjkhjk")."""
    for unit in range(1, max_unit + 1):
        if len(s) >= 2 * unit + 1 and s == (s[:unit] * (len(s) // unit + 1))[: len(s)]:
            return True
    return False


# Words already judged by `_mashed`, and those found mashed: set operations in C answer
# most comments (no mashed word) without a call per word. Bounded: cleared when full.
_JUDGED: set[str] = set()
_MASHED: set[str] = set()


def _mashed_count(tokens: list[str]) -> int:
    """How many of `tokens` are `_mashed` (repeats counted)."""
    if not _JUDGED.issuperset(tokens):
        if len(_JUDGED) > 1 << 18:  # hostile input may bring endless new words
            _JUDGED.clear()
            _MASHED.clear()
        for token in set(tokens).difference(_JUDGED):
            _JUDGED.add(token)
            if _mashed(token):
                _MASHED.add(token)
    if _MASHED.isdisjoint(tokens):
        return 0
    return sum(token in _MASHED for token in tokens)


def _mashed(token: str) -> bool:
    """A word that is no word: no vowels (4+ letters), a run of one letter, or typed
    along a keyboard row."""
    if token.isdigit() or len(token) < 4:
        return False
    if _VOWELS.isdisjoint(token):
        return token.isascii()  # scripts without these vowels are not gibberish
    if len(token) >= 5 and len(set(token)) <= 2:
        return True
    pairs = len(token) - 1
    along = sum(1 for i in range(pairs) if token[i : i + 2] in _KEY_NEIGHBOURS)
    return len(token) >= 5 and along / pairs >= 0.75
