"""`language`: a comment written (mostly) in a language other than the site's.

How a comment is judged, cheapest step first:

1. A fast gate: text with no letters outside the Latin script and a high share of
   English function words is English (when English is allowed) — most comments on an
   English site stop here without touching the classifier.
2. The text is split into words; URLs, e-mails, @handles, #hashtags and numbers are
   dropped. Names (capitalised words inside a sentence) and acronyms stay in what the
   classifier reads but carry no weight, so they never make a comment foreign.
3. Words are grouped into segments: a run of one script (a Cyrillic quote inside an
   English sentence is its own segment), cut at sentence ends once a segment is long
   enough to be identified reliably.
4. Each segment is identified: English function words first, then transliterated
   Russian (a lexicon heuristic: no classifier knows it), then py3langid restricted to
   the candidate languages; a segment in a script the site's language is not written in
   is foreign whatever the classifier says.
5. The predicate holds when the letters of confidently foreign segments are at least
   `min_share` of all weighted letters, and at least `min_letters` — so a short foreign
   quote in an English comment, or a one-word "Bravo!", never fires.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex
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

# Languages a reader of an English news site (Sputnik) plausibly writes in, plus one
# language for each major non-Latin script so such text gets a name.
DEFAULT_CANDIDATES = (
    "en", "fr", "de", "es", "it", "pt", "nl", "pl", "ro", "tr",
    "ru", "uk", "bg", "sr", "ar", "fa", "he", "el", "zh", "ja", "ko", "hi",
)  # fmt: skip

LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian", "bg": "Bulgarian",
    "bn": "Bengali", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "ga": "Irish", "gl": "Galician", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "ka": "Georgian", "kk": "Kazakh", "ko": "Korean", "la": "Latin",
    "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese", "und": "undetermined",
}  # fmt: skip

# The script each language is written in (first word of the Unicode character names).
# A site language missing here gets no script check.
_LATIN_LANGS = frozenset(
    ["af", "az", "bs", "ca", "cs", "cy", "da", "de", "en", "eo", "es", "et", "eu", "fi", "fr", "ga", "gl", "hr", "hu", "id", "is", "it", "la", "lt", "lv", "ms", "nl", "no", "pl", "pt", "ro", "sk", "sl", "sq", "sv", "tr", "vi"]
)
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **{code: frozenset({"LATIN"}) for code in _LATIN_LANGS},
    **{code: frozenset({"CYRILLIC"}) for code in ("ru", "uk", "bg", "be", "mk", "kk")},
    "sr": frozenset({"CYRILLIC", "LATIN"}),
    **{code: frozenset({"ARABIC"}) for code in ("ar", "fa", "ur")},
    "he": frozenset({"HEBREW"}),
    "el": frozenset({"GREEK"}),
    "zh": frozenset({"CJK"}),
    "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    "ko": frozenset({"HANGUL", "CJK"}),
    "hi": frozenset({"DEVANAGARI"}),
    "th": frozenset({"THAI"}),
    "hy": frozenset({"ARMENIAN"}),
    "ka": frozenset({"GEORGIAN"}),
}
# The language named for a script when the classifier cannot name one of its languages.
_SCRIPT_DEFAULT = {
    "CYRILLIC": "ru", "ARABIC": "ar", "HEBREW": "he", "GREEK": "el", "CJK": "zh",
    "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "DEVANAGARI": "hi", "THAI": "th",
    "ARMENIAN": "hy", "GEORGIAN": "ka", "BENGALI": "bn", "TAMIL": "ta", "TELUGU": "te",
    "GUJARATI": "gu", "GURMUKHI": "pa", "KANNADA": "kn", "MALAYALAM": "ml", "SINHALA": "si",
    "LAO": "lo", "KHMER": "km", "MYANMAR": "my", "ETHIOPIC": "am", "TIBETAN": "bo",
}  # fmt: skip
_KNOWN_SCRIPTS = frozenset({"LATIN", *_SCRIPT_DEFAULT})

# English function words that are not (common) words in the other candidate languages:
# no "a", "in", "die", "was", "will", "is", "of", "do", "no", "so", "an", "he", "for".
ENGLISH_FUNCTION_WORDS = frozenset(
    ["the", "and", "that", "with", "have", "this", "they", "you", "would", "are", "were", "been", "from", "but", "not", "which", "there", "their", "what", "about", "because", "should", "could", "just", "than", "them", "these", "those", "who", "your", "has", "it", "can", "if", "she", "by", "at", "to", "be", "or", "all", "we", "our", "my", "his", "her", "him", "its", "it's", "i'm", "don't", "doesn't", "didn't", "isn't", "can't", "won't", "i've", "i'd", "you're", "they're", "we're", "that's", "there's", "how", "why", "when", "where", "any", "some", "more", "very", "also", "only", "even", "into", "out", "up", "down", "over", "after", "before", "then", "now", "here", "other", "such", "same", "than", "too", "does", "did", "had", "being", "get", "got", "make", "made", "like", "people", "think", "know", "really", "much", "many", "every", "something", "nothing", "anything", "everyone", "nobody", "yes", "yeah", "ok"]
)
# For the whole-comment gate only: frequent English words that also occur in other
# languages; over a whole comment their share still separates English well.
_GATE_WORDS = ENGLISH_FUNCTION_WORDS | frozenset(["a", "in", "of", "is", "for", "on", "as", "was", "will", "so", "no", "he", "an", "i", "do"])
_MAX_CHARS = 10_000
_GATE_SAMPLE = 600  # characters read by the gate from each end of a long comment

# Transliterated Russian: function words and very common words written in Latin letters
# (several spellings each). None of them is an English word.
TRANSLIT_RUSSIAN = frozenset(
    ["ya", "ty", "vy", "oni", "ona", "ono", "mne", "mnye", "menya", "tebya", "tebe", "sebya", "nas", "vas", "nam", "vam", "ikh", "ego", "yego", "yeyo", "eyo", "nikh", "ne", "net", "nyet", "da", "chto", "shto", "chtoby", "shtoby", "kak", "kakoy", "kakoi", "kakaya", "kakie", "kakiye", "kogda", "gde", "kuda", "pochemu", "zachem", "potomu", "eto", "eta", "eti", "etot", "etogo", "etom", "vot", "tak", "takoy", "takoi", "takaya", "tozhe", "toje", "uzhe", "uje", "eshche", "eshe", "esche", "yeshche", "tolko", "ochen", "byl", "byla", "bylo", "byli", "budet", "budu", "budem", "mozhno", "mozhet", "moget", "nado", "nuzhno", "khochu", "hochu", "khochesh", "hochesh", "znayu", "znaju", "znaesh", "znaet", "dumayu", "dumaju", "govoryu", "govorit", "skazal", "skazala", "vse", "vsyo", "vsio", "vsem", "vsekh", "vseh", "nichego", "nichto", "nikto", "nikogda", "kto", "esli", "yesli", "kstati", "seychas", "sejchas", "seichas", "sechas", "segodnya", "zavtra", "vchera", "privet", "privetik", "poka", "spasibo", "spasibki", "pozhaluysta", "pozhalujsta", "pojaluysta", "khorosho", "horosho", "harasho", "kharasho", "plokho", "ploho", "dela", "delo", "bratan", "bratok", "bratishka", "davai", "davay", "blin", "zhe", "ladno", "konechno", "pravda", "bolshe", "menshe", "sovsem", "voobshche", "voobshe", "prosto", "tut", "tam", "zdes", "togda", "potom", "opyat", "snova", "narod", "vlast", "strana", "rossiya", "rossii", "rebyata", "druzya", "chelovek", "lyudi", "zhizn", "nashi", "nash", "nasha", "vash", "vasha", "moy", "moi", "moya", "tvoy", "tvoi", "tvoya", "svoy", "svoi", "slishkom", "vsegda", "inogda", "mnogo", "malo", "dlya", "pered", "posle", "cherez", "mezhdu", "bez", "iz", "ot", "po", "za", "pro", "nu", "li", "khren", "pozor", "molodets", "krasavchik", "stydno", "dobryy", "dobry", "dobroe", "utro", "vecher", "nochi", "den", "chego", "kotoryy", "kotoryi", "kotoraya", "kotorye", "ili", "ni", "dazhe", "daje", "budto", "mojet", "pochti", "tolko", "razve", "xorosho", "nichego", "normalno", "kruto", "zdravstvuyte", "zdravstvuy", "ponyatno", "ponimayu", "ponyal"]
)

# Lexicon words that are short or also English slang ("ya know", "da man", "ty"): they
# count, but at least one other lexicon word must be present.
_TRANSLIT_WEAK = frozenset(
    {
        "ya", "ty", "vy", "ne", "net", "da", "nu", "tut", "tam", "po", "za", "ot", "iz", "ni",
        "li", "bez", "den", "moi", "eta", "eti", "ona", "ono", "oni", "nam", "vam", "nas", "vas", "mir",
    }
)

# Letter patterns frequent in transliterated Russian and rare in English words.
_TRANSLIT_CUES = regex.compile(r"zh|kh|shch|sch|yo|ya|yu|iy\b|yy\b|oy\b|ij\b|tsya|tsa\b|ovat|yeh", regex.I)

# What is not language: URLs, e-mails, @handles and #hashtags (numbers are not words).
_SKIP = regex.compile(
    r"""(?x)
        (?:https?|hxxps?|ftp)://\S+
      | www\.\S+
      | (?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+
      | (?<![\w@])[@#]\w+
      | (?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|ru|uk|de|fr|io|info|biz|gov|edu|co|me|tv|ly)\b\S*
    """
)
# Cheap test for whether _SKIP can match at all.
_SKIP_HINT = regex.compile(r"[@#]|://|www\.|\.(?:com|org|net|ru|uk|de|fr|io|info|biz|gov|edu|co|me|tv|ly)\b")
_WORD = regex.compile(r"\p{L}[\p{L}\p{M}]*(?:['’]\p{L}+)*")
# Abbreviations before a name: "Mr. Simpson" does not start a sentence.
_TITLES = frozenset(["mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "col", "lt", "sgt", "rev", "hon", "sen", "rep", "gov", "pres", "mt", "fr"])
_SENTENCE_BREAKS = frozenset(".!?…\n:;«»\"“”")
_NON_LATIN_LETTER = regex.compile(r"[^\P{L}\p{Latin}]")


class LanguageConfig(PredicateConfig):
    # Languages that are fine; `site` stands for the site's language from policy.yaml.
    allowed: tuple[str, ...] = Field(default=("site",), alias="not", min_length=1)
    candidates: tuple[str, ...] = DEFAULT_CANDIDATES
    # Probability that a segment is in none of the allowed languages.
    min_confidence: float = Field(default=0.95, ge=0.0, le=1.0)
    min_share: float = Field(default=0.5, gt=0.0, le=1.0)
    min_letters: int = Field(default=12, ge=1)
    # Fewer letters suffice when the evidence is unambiguous: another script than the
    # site's, or the transliterated-Russian lexicon ("Спасибо!", "ya ne znayu").
    min_letters_sure: int = Field(default=6, ge=1)
    # A segment needs this many letters before a sentence end may close it.
    segment_letters: int = Field(default=40, ge=1)
    transliterated: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `language:` alone (not the site's language), `language: [en, fr]` (allowed).
        if value is None:
            return {}
        if isinstance(value, str | list):
            return {"not": value}
        return value

    @field_validator("allowed", "candidates", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of words identified together: raw span, weighted letters, language, confidence."""

    start: int
    end: int
    letters: int
    language: str
    confidence: float
    how: str  # "gate" | "script" | "transliterated" | "classifier" | "empty"


@dataclass(slots=True)  # not frozen: one is built per word, and frozen ones build slowly
class _Word:
    start: int
    end: int
    text: str
    script: str
    weight: int  # letters that count as evidence (0 for names and acronyms)
    sentence_start: bool


# --- the classifier -----------------------------------------------------------------


@lru_cache(maxsize=1)
def _base_identifier() -> Any:
    """py3langid's model (in its wheel), loaded once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _identifier(candidates: tuple[str, ...]) -> Any:
    """An identifier restricted to `candidates`, sharing the base model's arrays."""
    import copy

    base = _base_identifier()
    unknown = sorted(set(candidates) - set(base.labels))
    if unknown:
        raise PredicateError(f"language: unknown language code(s) {unknown} (py3langid has no model for them)")
    restricted = copy.copy(base)
    restricted.set_languages(list(candidates))
    return restricted


def py3langid_missing() -> str | None:
    try:
        import py3langid  # noqa: F401
    except ImportError:
        return "py3langid is not installed: pip install py3langid (a core dependency of modrules)"
    return None


# --- words and scripts ----------------------------------------------------------------


def _char_script(c: str) -> str:
    """The script of a letter, from its Unicode name; OTHER for scripts we do not name."""
    if c < "\u0250":
        return "LATIN"
    script = unicodedata.name(c, "").split(" ", 1)[0]
    return script if script in _KNOWN_SCRIPTS else "OTHER"


def _word_script(word: str) -> str:
    if word.isascii():
        return "LATIN"
    counts = Counter(_char_script(c) for c in word if c.isalpha())
    return counts.most_common(1)[0][0] if counts else "OTHER"


def _words(text: str) -> list[_Word]:
    """Words with their script and evidence weight; URLs, handles, numbers dropped."""
    skips = [m.span() for m in _SKIP.finditer(text)] if _SKIP_HINT.search(text) else []
    tokens: list[tuple[int, int, str, bool]] = []
    previous_end = 0
    k = 0
    for m in _WORD.finditer(text):
        start, end = m.span()
        while k < len(skips) and skips[k][1] <= start:
            k += 1
        if k < len(skips) and skips[k][0] < end:
            previous_end = end
            continue  # a word inside a URL, an address or a handle
        gap = text[previous_end:start]
        sentence_start = not tokens or (
            gap != " " and not _SENTENCE_BREAKS.isdisjoint(gap) and tokens[-1][2].lower() not in _TITLES
        )
        raw = m.group()
        tokens.append((start, end, raw if raw.isascii() else unicodedata.normalize("NFKC", raw), sentence_start))
        previous_end = end
    shouting = _is_shouting([t[2] for t in tokens])
    return [
        _Word(start, end, word, _word_script(word), _weight(word, sentence_start, shouting), sentence_start)
        for start, end, word, sentence_start in tokens
    ]


def _letters(word: str) -> int:
    # A word token is letters, marks and apostrophes.
    return len(word) - word.count("'") - word.count("’")


def _is_shouting(words: list[str]) -> bool:
    """Mostly capitals: then capitalised words are not names and acronyms."""
    shouted = [w for w in words if w.isupper()]
    # A list of acronyms (NATO, OSCE, EU) is not shouting: shouting has long words.
    if not any(len(w) >= 6 for w in shouted):
        return False
    return sum(map(_letters, shouted)) > 0.6 * sum(map(_letters, words))


def _weight(word: str, sentence_start: bool, shouting: bool) -> int:
    letters = _letters(word)
    if letters < 2:
        return 0  # single letters say little, and spaced-out text ("y o u") is all of them
    if shouting:
        return letters
    if word.isupper():
        return 0  # an acronym: NATO, USA, ФСБ
    if word[0].isupper() and not sentence_start:
        return 0  # a name: Zhukov, Le Pen, Merkel
    return letters


# --- segments -------------------------------------------------------------------------


def _segments(words: list[_Word], segment_letters: int) -> list[list[_Word]]:
    """Runs of one script, closed at a sentence start once long enough."""
    runs: list[list[_Word]] = []
    current: list[_Word] = []
    letters = 0
    for word in words:
        if current and (
            word.script != current[-1].script or (word.sentence_start and letters >= segment_letters)
        ):
            runs.append(current)
            current, letters = [], 0
        current.append(word)
        letters += word.weight or len(word.text)
    if current:
        runs.append(current)
    return _merge_short_tails(runs, segment_letters)


def _merge_short_tails(runs: list[list[_Word]], segment_letters: int) -> list[list[_Word]]:
    """A short last run of a script joins the run before it when both are in that script."""
    merged: list[list[_Word]] = []
    for run in runs:
        if (
            merged
            and merged[-1][-1].script == run[0].script
            and sum(len(w.text) for w in run) < segment_letters
        ):
            merged[-1] = merged[-1] + run
        else:
            merged.append(run)
    return merged


def english_share(words: list[str]) -> tuple[int, float]:
    """How many of the (lower-case) words are English function words, and their share."""
    if not words:
        return 0, 0.0
    hits = sum(1 for w in words if w in ENGLISH_FUNCTION_WORDS)
    return hits, hits / len(words)


def _looks_english(words: list[str]) -> bool:
    """Distinctive English function words, or a high share of frequent English words."""
    hits, share = english_share(words)
    if hits >= 2 and share >= 0.3:
        return True
    frequent = sum(map(_GATE_WORDS.__contains__, words))
    return frequent >= 2 and frequent >= 0.4 * len(words)


def transliterated_russian(words: list[str]) -> float:
    """A 0–1 score that lower-case Latin words are transliterated Russian (0 when not)."""
    if not words:
        return 0.0
    lexicon = {w for w in words if w in TRANSLIT_RUSSIAN}
    lexicon_hits = sum(1 for w in words if w in TRANSLIT_RUSSIAN)
    _, english = english_share(words)
    if len(lexicon) < 2 or not lexicon - _TRANSLIT_WEAK or english > 0.15:
        return 0.0
    cued = sum(
        1 for w in words if w not in TRANSLIT_RUSSIAN and w not in ENGLISH_FUNCTION_WORDS and _TRANSLIT_CUES.search(w)
    )
    score = (lexicon_hits + 0.5 * cued) / len(words)
    return min(1.0, score) if score >= 0.5 else 0.0


# --- the predicate ------------------------------------------------------------------------


_CACHE_CHARS = 120  # texts up to this long have their analysis remembered
_CACHE_SIZE = 4096  # how many (then the memory starts over: bounded, never stale)


@dataclass(frozen=True, slots=True)
class Analysis:
    segments: list[Segment]

    def weighted(self) -> int:
        return sum(s.letters for s in self.segments)


class LanguageAnalyzer:
    """Identifies the segments of one comment; shared by rules with the same candidates."""

    def __init__(self, candidates: tuple[str, ...], allowed: frozenset[str], site_scripts: frozenset[str] | None):
        self.candidates = candidates
        self.allowed = allowed
        self.english_gate = "en" in allowed
        self.site_scripts = site_scripts
        self._classifier: Any = None
        self._cache: dict[tuple[str, int, bool], Analysis] = {}

    def classifier(self) -> Any:
        if self._classifier is None:
            self._classifier = _identifier(self.candidates)
        return self._classifier

    def fast_english(self, text: str) -> bool:
        """A cheap pass: Latin-only text whose words are largely English function words."""
        if not self.english_gate:
            return False
        if not text.isascii() and _NON_LATIN_LETTER.search(text) is not None:
            return False
        if len(text) > 2 * _GATE_SAMPLE:
            text = f"{text[:_GATE_SAMPLE]} {text[-_GATE_SAMPLE:]}"
        words = text.lower().split()
        hits = sum(map(_GATE_WORDS.__contains__, words))
        return hits >= 3 and hits >= 0.3 * len(words)

    def analyze(self, text: str, segment_letters: int, transliterated: bool) -> Analysis:
        # A huge comment is judged by its beginning: enough to know its language.
        text = text[:_MAX_CHARS]
        if self.fast_english(text):
            return Analysis([])
        if len(text) > _CACHE_CHARS:
            return self._analyze(text, segment_letters, transliterated)
        # Short replies recur ("Fair enough.", "Merci !") and are the ones the English
        # gate cannot settle: remember them (the analysis depends on the text alone).
        key = (text, segment_letters, transliterated)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            cached = self._cache[key] = self._analyze(text, segment_letters, transliterated)
        return cached

    def _analyze(self, text: str, segment_letters: int, transliterated: bool) -> Analysis:
        words = _words(text)
        return Analysis([self._identify(run, transliterated) for run in _segments(words, segment_letters)])

    def _identify(self, run: list[_Word], transliterated: bool) -> Segment:
        start, end = run[0].start, run[-1].end
        letters = sum(w.weight for w in run)
        script = run[0].script
        if letters == 0:
            # Only names, acronyms and single letters: nothing to weigh, so nothing to identify.
            return Segment(start, end, 0, "und", 0.0, "empty")
        lower = [w.text.lower() for w in run]
        if script == "LATIN":
            if self.english_gate and _looks_english(lower):
                return Segment(start, end, letters, "en", 1.0, "gate")
            if transliterated:
                score = transliterated_russian(lower)
                if score > 0.0:
                    # The lexicon's own thresholds decided: as sure as a confident classifier.
                    return Segment(start, end, letters, "ru", 1.0, "transliterated")
        language, confidence = self._classify(" ".join(w.text for w in run))
        if self.site_scripts is not None and script not in self.site_scripts and script != "OTHER":
            # Written in a script the site's language does not use: foreign for sure.
            if script not in LANGUAGE_SCRIPTS.get(language, frozenset()):
                language = _SCRIPT_DEFAULT.get(script, "und")
            return Segment(start, end, letters, language, 1.0, "script")
        return Segment(start, end, letters, language, confidence, "classifier")

    def _classify(self, text: str) -> tuple[str, float]:
        """The likeliest language, and the probability of its side: allowed or foreign.

        Whether a text is foreign matters more than which foreign language it is: Spanish
        split 0.6/0.3 with Portuguese is still surely not English.
        """
        ranked = self.classifier().rank(text)
        language = ranked[0][0]
        allowed = sum(p for code, p in ranked if code in self.allowed)
        return language, float(allowed if language in self.allowed else 1.0 - allowed)


_SURE = frozenset({"script", "transliterated"})


def thread_language(doc: Document) -> frozenset[str]:
    """The thread's own language ({"ru"} for `"language": "ru-RU"`), allowed besides the
    rule's: only when the thread states it (the model's default "en" is not a statement)."""
    thread = doc.thread
    if thread is None or "language" not in thread.model_fields_set:
        return frozenset()
    code = thread.language.strip().lower().replace("_", "-").split("-")[0]
    return frozenset({code}) if code else frozenset()


def describe(code: str, how: str = "") -> str:
    name = LANGUAGE_NAMES.get(code, code)
    return f"{code} ({name}, transliterated)" if how == "transliterated" else f"{code} ({name})"


@register
class Language(Predicate):
    name = "language"
    Config = LanguageConfig

    def __init__(self, config: Any, ctx: CompileContext) -> None:
        super().__init__(config, ctx)
        site = ctx.site_language or "en"
        self.allowed = frozenset(site if code == "site" else code for code in config.allowed)
        self.min_confidence: float = config.min_confidence
        self.min_share: float = config.min_share
        self.min_letters: int = config.min_letters
        self.min_letters_sure: int = min(config.min_letters_sure, config.min_letters)
        self.segment_letters: int = config.segment_letters
        self.transliterated: bool = config.transliterated
        candidates = tuple(dict.fromkeys([*config.candidates, *sorted(self.allowed)]))
        scripts = [LANGUAGE_SCRIPTS.get(code) for code in self.allowed]
        site_scripts = None if None in scripts else frozenset().union(*(s for s in scripts if s is not None))
        key = ("language", candidates, self.allowed, site_scripts)
        self._missing = py3langid_missing()
        self.analyzer = ctx.shared(key, lambda: LanguageAnalyzer(candidates, self.allowed, site_scripts))
        if self._missing is None:
            self.analyzer.classifier()  # unknown codes fail at load, and the model loads once
        self._signal = f"language:{','.join(candidates)}:{sorted(self.allowed)}:{self.segment_letters}:{self.transliterated}"

    def unavailable_reason(self) -> str | None:
        return self._missing

    def analysis(self, doc: Document) -> Analysis:
        return doc.signal(
            self._signal, lambda d: self.analyzer.analyze(d.text, self.segment_letters, self.transliterated)
        )

    def evaluate(self, doc: Document) -> Hit | None:
        if len(doc.text) < self.min_letters_sure:
            return None
        analysis = self.analysis(doc)
        total = analysis.weighted()
        if total < self.min_letters_sure:
            return None
        allowed = self.allowed | thread_language(doc)
        foreign = [
            s
            for s in analysis.segments
            if s.language not in allowed and s.confidence >= self.min_confidence and s.letters > 0
        ]
        foreign_letters = sum(s.letters for s in foreign)
        sure = all(s.how in _SURE for s in foreign)
        if foreign_letters < (self.min_letters_sure if sure else self.min_letters):
            return None
        if foreign_letters < self.min_share * total:
            return None
        by_language: Counter[str] = Counter()
        for s in foreign:
            by_language[s.language] += s.letters
        top = by_language.most_common(1)[0][0]
        how = "transliterated" if all(s.how == "transliterated" for s in foreign if s.language == top) else ""
        confidence = sum(s.confidence * s.letters for s in foreign) / foreign_letters
        return Hit(
            spans=[Span(s.start, s.end) for s in foreign],
            score=round(confidence * foreign_letters / total, 4),
            detail=describe(top, how),
        )
