"""`language`: foreign-language comments (clause 20) — each candidate language, short
text, quotes inside English, transliterated Russian against English with Russian names,
URLs and handles, names and acronyms, configs, hostile Unicode."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modrules.checkers import language as language_module
from modrules.checkers.base import CompileContext, Document, PredicateError
from modrules.checkers.language import (
    Language,
    LanguageConfig,
    english_share,
    transliterated_russian,
)
from modrules.model import Comment
from modrules.text import TextViews

from .conftest import RulesetFactory


def doc(text: str) -> Document:
    return Document(Comment(id="c", text=text), TextViews(text))


def predicate(site_language: str = "en", **config: object) -> Language:
    return Language(LanguageConfig.model_validate(config), CompileContext(ruleset_dir=None, site_language=site_language))


# ------------------------------------------------------------ logic without the model


@pytest.mark.parametrize(
    "text",
    [
        "privet kak dela",
        "ya ne znayu",
        "spasibo bratan",
        "nu davai, bratan, vse budet khorosho",
        "Kak ty? Vse normalno?",
        "ya tebya lyublyu",
        "eto prosto pozor, a ne statya",
    ],
)
def test_transliterated_russian_is_recognised(text: str) -> None:
    words = [w.strip(",.?!").lower() for w in text.split()]
    assert transliterated_russian(words) > 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Zhukov Khodorkovsky Shchukin",
        "Marshal Zhukov met Khodorkovsky and Shchukin in Moscow",
        "Khodorkovsky says Zhukov's memoirs are wrong about Shchukin",
        "ya know what i mean",
        "Ya da man",  # English slang: short lexicon words alone are not enough
        "ne znam sta da kazem",  # Serbian, not Russian
        "nie wiem co powiedziec",  # Polish
        "the yoga and yurt crowd enjoyed the zhuzh",  # letter cues alone are not enough
    ],
)
def test_transliterated_russian_hard_negatives(text: str) -> None:
    words = [w.strip(",.?!'").lower() for w in text.split()]
    assert transliterated_russian(words) == 0.0


def test_english_share_counts_function_words() -> None:
    hits, share = english_share(["this", "is", "what", "they", "would", "have", "done"])
    assert hits >= 4
    assert share > 0.5
    assert english_share([]) == (0, 0.0)


def test_config_shorthands_and_validation() -> None:
    assert LanguageConfig.model_validate(None).allowed == ("site",)
    assert LanguageConfig.model_validate("en").allowed == ("en",)
    assert LanguageConfig.model_validate(["en", "fr"]).allowed == ("en", "fr")
    assert LanguageConfig.model_validate({"not": "fr", "candidates": "de"}).candidates == ("de",)
    with pytest.raises(ValidationError):
        LanguageConfig.model_validate({"min_share": 0})
    with pytest.raises(ValidationError):
        LanguageConfig.model_validate({"min_confidence": 1.5})
    with pytest.raises(ValidationError):
        LanguageConfig.model_validate({"not": []})
    with pytest.raises(ValidationError):
        LanguageConfig.model_validate({"languages": ["en"]})


def test_unavailable_without_py3langid(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = "py3langid is not installed: pip install py3langid"
    monkeypatch.setattr(language_module, "py3langid_missing", lambda: reason)
    pred = predicate()
    assert pred.unavailable_reason() == reason


# ------------------------------------------------------------ with the classifier

pytest.importorskip("py3langid", reason="py3langid (a core dependency) is not installed here")


@pytest.fixture(scope="module")
def pred() -> Language:
    return predicate()


def detected(pred: Language, text: str) -> str | None:
    hit = pred.evaluate(doc(text))
    return None if hit is None else (hit.detail or "").split()[0]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Je ne comprends pas pourquoi les médias parlent encore de cette histoire.", "fr"),
        ("Das ist doch nicht wahr, die Regierung lügt wie immer.", "de"),
        ("El gobierno no tiene ninguna idea de lo que está pasando en el país.", "es"),
        ("Questo articolo è pieno di bugie, come sempre del resto.", "it"),
        ("Isso não é verdade, o governo está mentindo para todos nós.", "pt"),
        ("Dit is niet waar, de regering heeft geen idee wat ze doet.", "nl"),
        ("To nieprawda, rząd kłamie jak zawsze i nikt nic nie robi.", "pl"),
        ("Bu haber tamamen yalan, kimse buna inanmıyor artık.", "tr"),
        ("Это просто позор, а не статья, как всегда.", "ru"),
        ("Це просто ганьба, а не стаття, як завжди.", "uk"),
        ("هذا المقال كاذب تماما ولا أحد يصدقه", "ar"),
        ("这篇文章完全是假的，没有人相信", "zh"),
        ("この記事は完全に嘘です。誰も信じていません。", "ja"),
        ("이 기사는 완전히 거짓말입니다", "ko"),
        ("Η κυβέρνηση πρέπει να παραιτηθεί αμέσως", "el"),
        ("הממשלה משקרת כמו תמיד", "he"),
        ("यह लेख पूरी तरह से झूठा है", "hi"),
        ("გამარჯობა, ეს სტატია ძალიან ცუდია", "ka"),  # a script no candidate writes
    ],
)
def test_each_language_is_foreign(pred: Language, text: str, code: str) -> None:
    assert detected(pred, text) == code


def test_detail_names_the_language_and_evidence_is_raw_text(pred: Language) -> None:
    text = "  Это просто позор, а не статья.  "
    hit = pred.evaluate(doc(text))
    assert hit is not None
    assert hit.detail == "ru (Russian)"
    assert [text[s.start : s.end] for s in hit.spans] == ["Это просто позор, а не статья"]
    assert 0.0 < hit.score <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "privet kak dela",
        "ya ne znayu",
        "spasibo bratan",
        "Privet! Kak dela? Vse khorosho, spasibo.",
    ],
)
def test_transliterated_russian_fires(pred: Language, text: str) -> None:
    hit = pred.evaluate(doc(text))
    assert hit is not None
    assert hit.detail == "ru (Russian, transliterated)"


@pytest.mark.parametrize(
    "text",
    [
        "Zhukov Khodorkovsky Shchukin",
        "Marshal Zhukov, Khodorkovsky and Shchukin were all in Moscow when the news broke.",
        "Shoigu met Lavrov and Zakharova in Sochi.",
        "Khodorkovsky says Zhukov's memoirs are wrong about Shchukin.",
        "Navalny, Yavlinsky, Zyuganov, Zhirinovsky.",
    ],
)
def test_russian_names_are_not_foreign(pred: Language, text: str) -> None:
    assert pred.evaluate(doc(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "Bravo!",
        "Merci",
        "Спасибо",  # 7 letters: enough for another script
        "Da",
        "C'est la vie.",
        "Mea culpa",
        "Quid pro quo",
        "Totally agree",
    ],
)
def test_short_latin_text_does_not_fire(pred: Language, text: str) -> None:
    if text == "Спасибо":
        assert detected(pred, text) == "ru"
    else:
        assert pred.evaluate(doc(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "As the Russians say, доверяй, но проверяй — trust but verify, and that is the whole point of this treaty.",
        "The protesters chanted Путин вор outside the embassy, the article says, and police did nothing.",
        "As the French say, c'est la vie, and that is the whole problem with this government.",
        "My grandmother used to say 'Ordnung muss sein' and honestly, looking at this mess, she had a point about the city council.",
        "Le Pen and Macron will meet in the second round, according to the polls.",
        "She studied at the Université de Montréal before joining the ministry in Ottawa.",
        "Los Angeles and Las Vegas both voted for the measure last week.",
        "The El Niño pattern is back and the article explains what it means for Canada.",
    ],
)
def test_quotes_and_foreign_names_inside_english_are_fine(pred: Language, text: str) -> None:
    assert pred.evaluate(doc(text)) is None


def test_mostly_foreign_with_an_english_line_fires(pred: Language) -> None:
    text = (
        "Great article! Mais franchement, je ne suis pas du tout d'accord avec les conclusions "
        "de l'auteur sur la politique étrangère de la France et sur le rôle de l'OTAN."
    )
    hit = pred.evaluate(doc(text))
    assert hit is not None
    assert hit.detail == "fr (French)"
    # A sentence shorter than `segment_letters` is identified with its neighbour.
    assert any("politique étrangère" in text[s.start : s.end] for s in hit.spans)


def test_min_share_decides_mixed_comments() -> None:
    text = (
        "I agree with the article about the election and the new government. "
        "Pero la verdad es que nadie sabe lo que va a pasar con la economía del país."
    )
    assert predicate(min_share=0.3).evaluate(doc(text)) is not None
    assert predicate(min_share=0.9).evaluate(doc(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "https://sputniknews.com/europe/201704191052800000-eu-russia/ @SputnikInt #Brussels 2017",
        "NATO, OSCE, EU, PACE, BRICS, CSTO",
        "www.lefigaro.fr/politique/2017/04/19/elections-presidentielles.php",
        "contact: jean.dupont@exemple.fr 06 12 34 56 78",
        "12345 67890 3.14 2017-04-19 15:20",
        "!!!!! ???? ..... ;-) :-( <3",
        "",
        "   ",
    ],
)
def test_urls_handles_numbers_acronyms_are_not_language(pred: Language, text: str) -> None:
    assert pred.evaluate(doc(text)) is None


def test_url_inside_foreign_text_is_not_evidence(pred: Language) -> None:
    text = "Regardez https://www.youtube.com/watch?v=abc ce reportage est vraiment incroyable, je vous le conseille."
    hit = pred.evaluate(doc(text))
    assert hit is not None and hit.detail == "fr (French)"
    assert all("youtube" not in text[s.start : s.end] or text[s.start : s.end].startswith("Regardez") for s in hit.spans)


def test_allowed_languages_and_site_language() -> None:
    french = "Je ne comprends pas pourquoi les médias parlent encore de cette histoire."
    both = Language(LanguageConfig.model_validate({"not": ["en", "fr"]}), CompileContext(ruleset_dir=None))
    assert both.evaluate(doc(french)) is None
    assert predicate(site_language="fr").evaluate(doc(french)) is None
    english = "I do not understand why the media keep talking about this story at all."
    hit = predicate(site_language="fr").evaluate(doc(english))
    assert hit is not None and hit.detail == "en (English)"


def test_transliteration_heuristic_can_be_switched_off() -> None:
    hit = predicate(transliterated=False).evaluate(doc("spasibo bratan, ya ne znayu"))
    assert hit is None or "transliterated" not in (hit.detail or "")


def test_shouting_is_still_identified(pred: Language) -> None:
    assert detected(pred, "ЭТО ПРОСТО ПОЗОР А НЕ СТАТЬЯ") == "ru"
    assert detected(pred, "ESTO ES UNA VERGÜENZA, EL GOBIERNO NOS MIENTE A TODOS") == "es"
    assert pred.evaluate(doc("THIS IS A DISGRACE AND NOBODY CARES ABOUT THE TRUTH")) is None


@pytest.mark.parametrize(
    "text",
    [
        "𝐓𝐡𝐢𝐬 𝐢𝐬 𝐚 𝐠𝐫𝐞𝐚𝐭 𝐚𝐫𝐭𝐢𝐜𝐥𝐞 𝐚𝐛𝐨𝐮𝐭 𝐭𝐡𝐞 𝐞𝐜𝐨𝐧𝐨𝐦𝐲 𝐚𝐧𝐝 𝐭𝐡𝐞 𝐠𝐨𝐯𝐞𝐫𝐧𝐦𝐞𝐧𝐭",
        "Ｔｈｉｓ ｉｓ ａ ｇｒｅａｔ ａｒｔｉｃｌｅ ａｂｏｕｔ ｔｈｅ ｅｃｏｎｏｍｙ",
        "T\u200bh\u200bi\u200bs is a great article about the economy and the government",
        "This is a great article 😀😀😀 about the economy 🇷🇺🇺🇸 and the government",
        "This\u202e is a great article about the economy and what the government did",
        "Y o u   g u y s   a r e   a l l   w r o n g   a b o u t   t h i s",
    ],
)
def test_hostile_unicode_english_is_not_foreign(pred: Language, text: str) -> None:
    assert pred.evaluate(doc(text)) is None


@pytest.mark.parametrize(
    "text",
    [
        "a" * 200_000,
        "Это " * 50_000,
        "privet " * 30_000,
        "\u0301" * 10_000 + "слово",
        "\ud800 lone surrogate text in the middle of an English sentence",
        "x\x00y\x00z" * 1000,
        "ß" * 5000 + " the end",
    ],
)
def test_huge_and_odd_input_does_not_crash(pred: Language, text: str) -> None:
    pred.evaluate(doc(text))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_crashes_and_spans_are_in_range(pred: Language, text: str) -> None:
    hit = pred.evaluate(doc(text))
    if hit is not None:
        assert hit.spans
        assert all(0 <= s.start < s.end <= len(text) for s in hit.spans)


def test_analysis_is_shared_between_rules_with_the_same_settings() -> None:
    ctx = CompileContext(ruleset_dir=None)
    first = Language(LanguageConfig.model_validate({}), ctx)
    second = Language(LanguageConfig.model_validate({"min_share": 0.8}), ctx)
    assert first.analyzer is second.analyzer
    d = doc("Je ne comprends pas pourquoi les médias parlent encore de cette histoire.")
    assert first.analysis(d) is second.analysis(d)


def test_unknown_candidate_fails_at_load() -> None:
    with pytest.raises(PredicateError, match="unknown language"):
        predicate(candidates=["en", "xx"])


def test_rule_in_a_ruleset(make_ruleset: RulesetFactory) -> None:
    from modrules import Moderator

    root: Path = make_ruleset(
        {
            "20-foreign.yaml": """
            id: foreign
            category: foreign-language
            clause: 20
            action: delete
            message: "Not English: {detail}"
            when:
              language:
            examples:
              match: ["Je ne comprends pas pourquoi les médias parlent de cette histoire."]
              no_match: ["I do not understand why the media talk about this story."]
            """
        }
    )
    moderator = Moderator.from_path(root)
    verdict = moderator.moderate({"id": "c1", "text": "Das ist doch nicht wahr, die Regierung lügt wie immer."})
    assert verdict.categories == ["foreign-language"]
    assert verdict.violations[0].message == "Not English: de (German)"
    assert moderator.moderate({"id": "c2", "text": "That is not true, the government lies as usual."}).violations == []
