#!/usr/bin/env python3
"""Generate a seeded synthetic comment corpus (and its threads) for benchmarks.

    python benchmarks/generate_corpus.py --n 100000 --seed 7 -o corpus.jsonl.gz

Mostly clean comments of realistic length (log-normal word counts: median ~30 words,
a long tail clipped at 400) built from sentence templates and topic word banks, plus a
few percent of every kind of violation the default ruleset looks for, bursts of
flash-mob and flooding comments, and a little hostile text (odd Unicode, huge strings).

Pure stdlib. The output depends only on the arguments: the same `--n` and `--seed`
give byte-identical files (gzip headers carry no timestamp). Every comment carries an
extra `kind` field ("clean" or what was injected) for analysing benchmark results; the
engine ignores unknown fields. `kind` is a generation note, not a moderation label.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import random
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")

START = datetime(2017, 4, 19, tzinfo=UTC)
MEDIAN_WORDS = 30
MAX_WORDS = 400
MEAN_GAP_SECONDS = 6.0  # 100k comments span about a week, like a busy news site

# --------------------------------------------------------------------------- word banks


@dataclass(frozen=True)
class Topic:
    name: str
    actors: tuple[str, ...]
    things: tuple[str, ...]
    places: tuple[str, ...]
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    titles: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        "conflict",
        (
            "the coalition",
            "Baghdad",
            "the Iraqi army",
            "Washington",
            "Moscow",
            "NATO",
            "the UN",
            "Ankara",
            "the Kurdish forces",
            "the State Department",
        ),
        (
            "the Mosul offensive",
            "the airstrikes",
            "the ceasefire",
            "the peace talks",
            "the refugee camps",
            "the arms deliveries",
            "the sanctions",
            "the border crossings",
            "the reconstruction money",
            "the intelligence reports",
            "the militia groups",
            "the humanitarian corridor",
            "the prisoner exchange",
            "the oil revenue",
        ),
        ("Syria", "Iraq", "Libya", "Yemen", "Afghanistan", "Aleppo", "Raqqa", "Kirkuk"),
        ("the army", "journalism", "an aid agency", "logistics", "the foreign office"),
        ("middle-east", "syria", "iraq", "security", "diplomacy", "terrorism"),
        (
            "Talks on {thing} Stall as Fighting Continues Near {place}",
            "{actor} Signals New Approach to {thing}",
            "Report: {thing} Falls Short of Targets in {place}",
        ),
    ),
    Topic(
        "transport",
        (
            "the council",
            "the mayor",
            "the transport authority",
            "the bus operators",
            "the rail company",
            "the opposition",
            "the residents' association",
        ),
        (
            "the tram extension",
            "bus fares",
            "the new cycle lanes",
            "parking charges",
            "the ring road",
            "the night buses",
            "the congestion charge",
            "the station upgrade",
            "the pothole repairs",
            "the park-and-ride",
            "the timetable changes",
            "the bridge closure",
        ),
        (
            "Westbridge",
            "Mill Road",
            "the city centre",
            "Leeds",
            "Manchester",
            "Bristol",
            "Scunthorpe",
        ),
        ("the council", "a bus depot", "civil engineering", "a taxi firm", "planning"),
        ("transport", "council", "buses", "trams", "roads", "local"),
        (
            "{actor} Approves Plan for {thing}",
            "Residents Split Over {thing} in {place}",
            "Costs of {thing} Rise Again, Documents Show",
        ),
    ),
    Topic(
        "budget",
        (
            "the treasurer",
            "the finance committee",
            "the chancellor",
            "the ministry",
            "the auditors",
            "the unions",
            "the opposition leader",
        ),
        (
            "the council tax rise",
            "the spending cuts",
            "the pension fund",
            "the library closures",
            "the social care budget",
            "the pay freeze",
            "the school funding formula",
            "the housing grant",
            "the deficit",
            "the business rates",
            "the reserve fund",
        ),
        ("the county", "Westbridge", "London", "the north", "Birmingham", "Essex"),
        ("accounting", "a school", "the NHS", "local government", "a charity"),
        ("budget", "economy", "council", "taxes", "public-services"),
        (
            "{actor} Defends {thing} After Criticism",
            "Budget Gap Forces Rethink on {thing}",
            "What {thing} Means for {place}",
        ),
    ),
    Topic(
        "space",
        ("NASA", "ESA", "the mission team", "the researchers", "Roscosmos", "SpaceX", "Congress"),
        (
            "the Cassini probe",
            "the plume samples",
            "the Mars rover",
            "the launch window",
            "the ocean under the ice",
            "the telescope time",
            "the sample return mission",
            "the heat shield",
            "the orbit insertion",
            "the lander",
            "the spectrometer data",
            "the science budget",
        ),
        ("Saturn", "Enceladus", "Europa", "Mars", "Titan", "the Moon", "Baikonur"),
        ("astronomy", "aerospace", "a university lab", "software", "physics"),
        ("science", "space", "nasa", "planets"),
        (
            "Probe Finds Clues About {thing}",
            "{actor} Delays Decision on {thing}",
            "Scientists Puzzle Over {thing} Near {place}",
        ),
    ),
    Topic(
        "football",
        (
            "the manager",
            "the club",
            "the league",
            "the referee",
            "the owners",
            "the fans",
            "the federation",
        ),
        (
            "the transfer window",
            "the penalty decision",
            "the relegation battle",
            "the new stadium",
            "the ticket prices",
            "the youth academy",
            "the VAR trial",
            "the away form",
            "the defensive line",
            "the title race",
            "the injury list",
        ),
        ("Barcelona", "Madrid", "Manchester", "Munich", "Turin", "Liverpool", "Scunthorpe"),
        ("coaching", "sports journalism", "a club shop", "groundskeeping"),
        ("sport", "football", "league"),
        (
            "{actor} Under Pressure After {thing}",
            "Late Goal Keeps {place} in {thing}",
            "Fans Protest {thing}",
        ),
    ),
    Topic(
        "elections",
        (
            "the candidates",
            "the electoral commission",
            "the pollsters",
            "the party leader",
            "the campaign",
            "the incumbent",
            "the observers",
        ),
        (
            "the second round",
            "the televised debate",
            "the turnout",
            "the postal votes",
            "the coalition talks",
            "the campaign finance rules",
            "the exit polls",
            "the manifesto",
            "the recount",
            "the swing seats",
        ),
        ("France", "the Netherlands", "Turkey", "Germany", "Serbia", "the UK"),
        ("a polling firm", "a campaign office", "political science", "the civil service"),
        ("politics", "elections", "europe"),
        (
            "Polls Tighten Ahead of {thing}",
            "{actor} Rejects Claims About {thing}",
            "Observers Raise Concerns Over {thing} in {place}",
        ),
    ),
    Topic(
        "economy",
        (
            "the central bank",
            "the markets",
            "the oil producers",
            "the IMF",
            "investors",
            "the finance minister",
            "the exporters",
        ),
        (
            "the interest rate decision",
            "the oil price",
            "the currency slide",
            "inflation",
            "the trade deal",
            "the bond yields",
            "the job figures",
            "the housing market",
            "the bank bailout",
            "the tariffs",
            "the growth forecast",
        ),
        ("Russia", "China", "the eurozone", "the US", "Japan", "Brazil"),
        ("banking", "a factory", "trading", "retail", "insurance"),
        ("economy", "markets", "finance", "trade"),
        (
            "{actor} Surprises With {thing}",
            "{thing} Weighs on {place}",
            "Analysts Split on Outlook for {thing}",
        ),
    ),
    Topic(
        "health",
        (
            "the health ministry",
            "the hospital trust",
            "the WHO",
            "the regulators",
            "the GPs",
            "the drug companies",
            "the nurses' union",
        ),
        (
            "the waiting lists",
            "the vaccine programme",
            "the A&E targets",
            "the measles outbreak",
            "the prescription charges",
            "the drug treatment services",
            "the mental health funding",
            "the antibiotic resistance",
            "the staff shortages",
            "the new cancer drug",
        ),
        ("Westbridge", "Scotland", "Italy", "Romania", "the capital", "rural areas"),
        ("a hospital", "pharmacy", "nursing", "a care home", "public health"),
        ("health", "hospitals", "medicine"),
        (
            "{actor} Warns Over {thing}",
            "New Figures Show {thing} Getting Worse in {place}",
            "Doctors Welcome {thing}",
        ),
    ),
)

OFF_TOPIC_LINES: tuple[str, ...] = (
    "Does anyone have a good recipe for banana bread? Mine always comes out dry.",
    "My cat knocks everything off the kitchen table at six every morning, any tips?",
    "Just back from a week in Crete, the weather was perfect.",
    "Who's watching the match tonight? I reckon it ends two all.",
    "Is it just me or has the weather been terrible all month?",
    "Anyone know a decent mechanic near the ring road? My clutch is going.",
    "Happy birthday to my little sister who turns 30 today!",
    "What's everyone reading at the moment? I need a new crime novel.",
    "My tomato plants finally flowered, first time in three years.",
    "Can someone recommend a good series to binge this weekend?",
)

OPENERS = (
    "",
    "",
    "",
    "Honestly, ",
    "To be fair, ",
    "Frankly, ",
    "I think ",
    "In my view ",
    "Let's be real, ",
    "Sadly ",
    "Funny how ",
    "Look, ",
    "Personally I think ",
)
ADJECTIVES = (
    "ridiculous",
    "sensible",
    "long overdue",
    "predictable",
    "interesting",
    "expensive",
    "naive",
    "a step in the right direction",
    "a total mess",
    "overblown",
    "worrying",
    "encouraging",
    "badly explained",
    "not the real issue",
    "hard to believe",
    "the right call",
    "a distraction",
    "complicated",
    "underreported",
    "reckless",
)
TIME_UNITS = ("years", "months", "weeks", "decades")
NUMBERS = ("two", "three", "five", "ten", "4", "6", "12", "20", "40", "a hundred")
RELATIVES = ("brother", "sister", "dad", "mum", "cousin", "neighbour", "wife", "husband", "friend")

TEMPLATES: tuple[str, ...] = (
    "{opener}{thing}? {adj_c}.",
    "{actor_c} kept promising {thing} for {number} {unit} and nothing changed.",
    "Nobody seems to ask who actually pays for {thing}.",
    "I read the whole article and I still don't understand why {actor} would want {thing}.",
    "Back in {year} the same thing happened in {place} and it ended badly.",
    "If {actor} spent half as much on {thing} as on {thing2}, we'd be fine.",
    "The figure of {money} looks {adj} to me.",
    "{pct} is not a small number when you think about {thing}.",
    "Good article, but it skips over {thing2}.",
    "My {relative} works in {field}, and the verdict on {thing} at home is: {adj}.",
    "Does anyone know what happened with {thing2}?",
    "Let's wait and see what {actor} actually does before judging.",
    "Not sure I agree, people have called {thing} {adj} for {unit}.",
    "Why is nobody talking about {thing2}?",
    "{actor_c} should be honest about {thing}.",
    "It's {adj}, but hardly surprising given {thing2}.",
    "People forget that {thing} started in {year}.",
    "That's the problem with {thing}: everybody has an opinion and nobody has the data.",
    "As usual, {actor} will blame everyone else.",
    "I'd like to see the numbers on {thing} before deciding.",
    "Same story in {place}, where {thing2} cost {money} and nobody was held responsible.",
    "The real question is whether {thing} helps ordinary people at all.",
    "The headline oversells it a bit, the body is more careful.",
    "We argued about {thing} at work today and nobody could agree.",
    "Long term, {thing} matters more than {thing2}.",
    "Remember when {actor} said {thing} would be sorted by {year}?",
    "{opener}the comparison with {place} doesn't really hold.",
    "I used to call {thing} {adj}, but the last {number} {unit} changed my mind.",
    "Can we get a follow-up on {thing2}? The article only mentions it once.",
    "The quote from {actor} in the fourth paragraph says it all.",
    "{opener}this is exactly what critics warned about in {year}.",
    "Whatever you think of {actor}, calling {thing} {adj} is fair.",
    "I don't buy the argument that {thing} and {thing2} are connected.",
    "Thanks for a balanced piece for once.",
    "Read past the headline and even {actor} can't call {thing} anything but {adj}.",
)

SHORT_REPLIES = (
    "Agreed.",
    "Source?",
    "This.",
    "Exactly.",
    "Well said.",
    "Not so sure.",
    "Good point.",
    "Fair enough.",
    "lol",
    "Thanks for the link.",
    "Nope.",
    "Spot on.",
    "Where did you read that?",
    "Same here.",
    "Ha, true.",
    "+1",
    "Interesting, thanks.",
    "That's not what the article says.",
    "Sad but true.",
    "Couldn't agree more.",
    "Says who?",
    "Ok.",
)

# --------------------------------------------------------------------------- violation banks

PROFANITY = (
    "fuck",
    "fucking",
    "shit",
    "bullshit",
    "crap",
    "bastard",
    "asshole",
    "damn",
    "piss",
    "bollocks",
    "dickhead",
    "wanker",
)
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "y": "у", "i": "і"}
LEET = {"a": "@", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad")
INSULT_NOUNS = ("idiot", "moron", "clown", "halfwit", "imbecile", "troll", "loser", "muppet")
INSULT_ADJS = ("pathetic", "brainless", "clueless", "worthless", "deluded", "ignorant")
THREATS = (
    "I know where you live.",
    "Watch your back.",
    "You'll regret posting that.",
    "Someone should shut you up for good.",
    "Keep talking and see what happens to you.",
)
TROLL_LINES = (
    "cry more lol",
    "triggered much? \U0001f602",
    "imagine being this dumb \U0001f921",
    "ok boomer",
    "nobody asked",
    "cope harder",
    "tell us more, genius \U0001f913",
    "the tears in this thread are delicious",
)
HATE_GROUPS = ("immigrants", "muslims", "refugees", "gypsies", "jews", "women", "foreigners")
HATE_CLAIMS = (
    "are all criminals",
    "are parasites",
    "should be sent back",
    "are vermin",
    "ruin everything they touch",
    "don't deserve any rights",
)
SPAM_LINES = (
    "MAKE ${n} A WEEK FROM HOME!!!",
    "I earn ${n} a month working two hours a day.",
    "Get rich quick, 100% guaranteed, no experience needed.",
    "Send 0.1 BTC and get 0.2 BTC back in 24h!!",
    "We send bulk emails to a million addresses for only ${n}.",
    "Earn money online fast, message me on telegram @{handle}.",
)
PRODUCTS = (
    "iPhone 7",
    "Ray-Ban sunglasses",
    "designer handbags",
    "weight loss pills",
    "Rolex watches",
    "cheap flights",
    "car insurance",
    "football shirts",
)
PROMO_KINDS = ("YouTube channel", "blog", "podcast", "Telegram channel", "Instagram", "shop")
DRUGS = ("weed", "coke", "MDMA", "molly", "meth", "LSD", "shrooms", "xanax", "ketamine")
DRUG_CUES = (
    "DM me if you want some",
    "discreet delivery, same day",
    "pure and tested",
    "I can sort you out",
    "best prices in town",
    "everyone should try it",
)
VIOLENCE_LINES = (
    "they cut his throat and the blood sprayed everywhere",
    "I'd love to see them beaten until their skulls crack",
    "we tied the dog to the car and dragged it down the road",
    "the bodies were burned alive and the video shows every second",
)
SUICIDE_LINES = (
    "kys",
    "just kill yourself",
    "go jump off a bridge",
    "do us all a favour and end it",
)
MINORS_LINES = (
    "any girls under 14 here? message me privately, don't tell your parents",
    "the schoolgirls in that photo are hot",
)
EXTREMISM_LINES = (
    "join the caliphate while there is still time, brothers",
    "time to take up arms and burn the parliament down",
    "send donations to the mujahideen, wallet in my profile",
)
FOREIGN: dict[str, tuple[str, ...]] = {
    "es": (
        "No entiendo por qué el gobierno gasta tanto dinero en esto.",
        "Esta noticia es una vergüenza, nadie dice la verdad.",
        "Mi hermano vive allí y dice que la situación es mucho peor.",
    ),
    "fr": (
        "Encore un article inutile, personne ne croit à cette histoire.",
        "Le gouvernement ne fait rien et les gens paient toujours plus.",
        "C'est exactement ce que j'avais prévu il y a deux ans.",
    ),
    "de": (
        "Das ist doch alles Unsinn, keiner glaubt diesen Zahlen.",
        "Die Politiker reden viel und machen nichts.",
        "Mein Nachbar arbeitet dort und sagt etwas ganz anderes.",
    ),
    "it": (
        "Questa è la solita propaganda, nessuno ci crede più.",
        "Il governo dovrebbe pensare prima ai cittadini.",
    ),
    "pt": (
        "Isso é uma vergonha, ninguém fala a verdade sobre isso.",
        "O governo gasta demais e não resolve nada.",
    ),
    "ru": (
        "Это всё пропаганда, никто в здравом уме в это не верит.",
        "Правительство опять врёт, а люди платят.",
        "Статья ни о чём, автор ничего не понимает.",
    ),
    "tr": ("Bu haber tamamen yalan, kimse buna inanmıyor.", "Hükümet yine hiçbir şey yapmıyor."),
    "pl": (
        "To jest kompletna bzdura, nikt w to nie wierzy.",
        "Rząd znowu wydaje pieniądze na głupoty.",
    ),
}
FIRST_NAMES = ("tom", "anna", "mark", "julia", "peter", "sara", "ivan", "maria", "james", "olga")
LAST_NAMES = ("harlow", "smith", "novak", "jones", "petrov", "garcia", "miller", "brown")
MAIL_HOSTS = ("gmail.com", "yahoo.com", "outlook.com", "mail.ru", "hotmail.co.uk", "gmx.de")
STREETS = ("Elm Street", "High Street", "Station Road", "Park Lane", "Church Road", "Mill Road")
CITIES = ("Bristol", "Leeds", "Westbridge", "Manchester", "Norwich", "Cardiff")
TLDS = ("info", "biz", "xyz", "top", "ru", "cn", "online", "club", "com")
SYLLABLES = ("ka", "zo", "mi", "ret", "lo", "vin", "tra", "bel", "no", "dax", "qui", "sen")
SHORTENERS = ("bit.ly", "tinyurl.com", "goo.gl", "ow.ly", "is.gd", "t.co")
PAYLOADS = (
    "setup.exe",
    "player_update.exe",
    "video.scr",
    "codec.zip",
    "invoice.pdf.exe",
    "viewer.apk",
    "patch.jar",
    "photos.rar",
)


# --------------------------------------------------------------------------- text pieces


class Writer:
    """All randomness flows from one seeded `random.Random`, so output depends on the seed only."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def word_count(self) -> int:
        # Log-normal: median MEDIAN_WORDS, about 1 comment in 1000 reaches the cap.
        n = round(math.exp(self.rng.gauss(math.log(MEDIAN_WORDS), 0.85)))
        return max(1, min(MAX_WORDS, n))

    def sentence(self, topic: Topic) -> str:
        r = self.rng
        actor = self.pick(topic.actors)
        adj = self.pick(ADJECTIVES)
        text = self.pick(TEMPLATES).format(
            opener=self.pick(OPENERS),
            thing=self.pick(topic.things),
            thing2=self.pick(topic.things),
            actor=actor,
            actor_c=actor[0].upper() + actor[1:],
            adj=adj,
            adj_c=adj[0].upper() + adj[1:],
            number=self.pick(NUMBERS),
            unit=self.pick(TIME_UNITS),
            year=r.randint(1995, 2016),
            place=self.pick(topic.places),
            money=self.money(),
            pct=f"{r.randint(2, 60)}%",
            relative=self.pick(RELATIVES),
            field=self.pick(topic.fields),
        )
        return text[0].upper() + text[1:]

    def money(self) -> str:
        r = self.rng
        cur = self.pick(("£", "$", "€"))
        if r.random() < 0.5:
            return f"{cur}{r.randint(2, 950)} million"
        return f"{cur}{r.randint(1, 99)}.{r.randint(0, 99):02d}"

    def prose(self, topic: Topic, words: int) -> str:
        """Sentences about the topic until about `words` words."""
        if words <= 3:
            return self.pick(SHORT_REPLIES)
        out: list[str] = []
        count = 0
        while count < words:
            s = self.sentence(topic)
            n = s.count(" ") + 1
            if out and count + n - words > n // 2:
                break  # closer to the target without this sentence
            out.append(s)
            count += n
            if self.rng.random() < 0.12:
                out.append("\n\n" if self.rng.random() < 0.5 else "\n")
        text = " ".join(out).replace(" \n", "\n").replace("\n ", "\n").strip()
        return self.roughen(text)

    def roughen(self, text: str) -> str:
        """Real comments are untidy: typos, no capitals, missing final stops, emoji."""
        r = self.rng
        if r.random() < 0.15:
            text = self.typos(text, r.randint(1, 3))
        if r.random() < 0.08:
            text = text.lower()
        if r.random() < 0.1 and text.endswith("."):
            text = text[:-1]
        if r.random() < 0.05:
            text += " " + self.pick(
                ("\U0001f644", "\U0001f602", "\U0001f44d", "\U0001f914", ":)", ";)")
            )
        return text

    def typos(self, text: str, n: int) -> str:
        chars = list(text)
        for _ in range(n):
            i = self.rng.randrange(max(1, len(chars) - 1))
            if chars[i].isalpha() and i + 1 < len(chars) and chars[i + 1].isalpha():
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars)

    def handle(self) -> str:
        return "".join(self.pick(SYLLABLES) for _ in range(self.rng.randint(2, 4))) + str(
            self.rng.randint(1, 999)
        )

    def domain(self) -> str:
        return (
            "".join(self.pick(SYLLABLES) for _ in range(self.rng.randint(2, 3)))
            + "-"
            + self.pick(("deals", "cash", "news", "shop", "win", "free"))
            + "."
            + self.pick(TLDS)
        )

    def url(self) -> str:
        scheme = self.pick(("http://", "https://", "", "www."))
        return f"{scheme}{self.domain()}/{self.handle()}"

    def obfuscate(self, word: str) -> str:
        r = self.rng
        style = r.randrange(7)
        if style == 0:  # mask inner letters: f*ck, sh#t
            inner = [i for i in range(1, len(word) - 1) if word[i] in "aeiou"] or [1]
            i = inner[r.randrange(len(inner))]
            return word[:i] + self.pick(("*", "#", "@", "%")) + word[i + 1 :]
        if style == 1:  # leetspeak
            return "".join(LEET.get(c, c) if r.random() < 0.6 else c for c in word)
        if style == 2:  # spaced or dotted letters
            return self.pick((" ", ".", "-")).join(word)
        if style == 3:  # zero-width characters inside the word
            return "".join(c + (self.pick(ZERO_WIDTH) if r.random() < 0.5 else "") for c in word)
        if style == 4:  # Cyrillic homoglyphs
            return "".join(HOMOGLYPHS.get(c, c) for c in word)
        if style == 5:  # stretched letters
            i = r.randrange(len(word))
            return word[: i + 1] + word[i] * r.randint(2, 5) + word[i + 1 :]
        return word.upper()

    def embed(self, topic: Topic, bad: str) -> str:
        """A violating phrase placed before, after or inside a short clean comment."""
        clean = self.prose(topic, self.rng.randint(4, 25)) if self.rng.random() < 0.7 else ""
        where = self.rng.randrange(3)
        if not clean:
            return bad
        if where == 0:
            return f"{bad} {clean}"
        if where == 1:
            return f"{clean} {bad}"
        cut = clean.find(". ")
        return f"{clean[: cut + 1]} {bad} {clean[cut + 2 :]}" if cut > 0 else f"{clean} {bad}"


# --------------------------------------------------------------------------- violation kinds

Make = Callable[[Writer, Topic], str]


def v_profanity(w: Writer, t: Topic) -> str:
    word = w.pick(PROFANITY)
    bad = word if w.rng.random() < 0.35 else w.obfuscate(word)
    return w.embed(
        t,
        w.pick(
            (
                f"what a load of {bad}.",
                f"this is {bad}.",
                f"{bad} this.",
                f"total {bad} from {w.pick(t.actors)}.",
                f"{bad}!",
            )
        ),
    )


def v_insult(w: Writer, t: Topic) -> str:
    return w.embed(t, f"You are a {w.pick(INSULT_ADJS)} {w.pick(INSULT_NOUNS)}.")


def v_threat(w: Writer, t: Topic) -> str:
    return w.embed(t, w.pick(THREATS))


def v_trolling(w: Writer, t: Topic) -> str:
    return w.pick(TROLL_LINES) + (" " + w.pick(TROLL_LINES) if w.rng.random() < 0.4 else "")


def v_hate(w: Writer, t: Topic) -> str:
    return w.embed(t, f"All {w.pick(HATE_GROUPS)} {w.pick(HATE_CLAIMS)}.")


def v_caps(w: Writer, t: Topic) -> str:
    return w.prose(t, w.rng.randint(8, 40)).upper() + w.pick(("", "!!!", "!!", "??"))


def v_runon(w: Writer, t: Topic) -> str:
    parts = [w.sentence(t).rstrip(".?!").lower() for _ in range(w.rng.randint(6, 12))]
    return " and ".join(parts).replace(",", "").replace(":", "")


def v_spam(w: Writer, t: Topic) -> str:
    line = (
        w.pick(SPAM_LINES)
        .replace("{n}", str(w.rng.randint(2, 90) * 100))
        .replace("{handle}", w.handle())
    )
    return f"{line} {w.url()}" + (f" {w.url()}" if w.rng.random() < 0.3 else "")


def v_commercial(w: Writer, t: Topic) -> str:
    r = w.rng
    return (
        f"{w.pick(PRODUCTS)} only {w.pick(('$', '£', '€'))}{r.randint(9, 499)}! "
        f"Order now at {w.url()} and use code {w.handle().upper()} for {r.randint(1, 7) * 10}% off."
    )


def v_promotion(w: Writer, t: Topic) -> str:
    return w.embed(
        t,
        f"Check out my {w.pick(PROMO_KINDS)} @{w.handle()} for the real story, "
        f"{w.pick(('like and subscribe!', 'link in my profile', 'follow for more'))}",
    )


def v_personal(w: Writer, t: Topic) -> str:
    r = w.rng
    first, last = w.pick(FIRST_NAMES), w.pick(LAST_NAMES)
    item = w.pick(
        (
            f"{first}.{last}{r.randint(1, 99)}@{w.pick(MAIL_HOSTS)}",
            f"+44 7700 900{r.randint(0, 999):03d}",
            f"(202) 555-01{r.randint(0, 99):02d}",
            f"{r.randint(1, 200)} {w.pick(STREETS)}, {w.pick(CITIES)}",
            "4111 1111 1111 1111",
        )
    )
    return w.embed(t, f"{first.title()} {last.title()} is behind this, contact: {item}")


def v_foreign(w: Writer, t: Topic) -> str:
    bank = FOREIGN[w.pick(sorted(FOREIGN))]
    return " ".join(w.rng.sample(bank, w.rng.randint(1, len(bank))))


def v_malware(w: Writer, t: Topic) -> str:
    r = w.rng
    url = w.pick(
        (
            f"http://{w.pick(SHORTENERS)}/{w.handle()}",
            f"http://{r.randint(11, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}/{w.pick(PAYLOADS)}",
            f"https://{w.domain()}/download/{w.pick(PAYLOADS)}",
            f"http://xn--{w.handle()}-{w.pick(('sfa', '4ve', 'b1a'))}.com/login",
        )
    )
    return f"{w.pick(('Full video here:', 'Free download:', 'Leaked documents:', 'Check your account:'))} {url}"


def v_drugs(w: Writer, t: Topic) -> str:
    return w.embed(t, f"Got {w.pick(DRUGS)} for anyone who needs it, {w.pick(DRUG_CUES)}.")


def v_violence(w: Writer, t: Topic) -> str:
    return w.embed(t, w.pick(VIOLENCE_LINES) + ".")


def v_suicide(w: Writer, t: Topic) -> str:
    return w.pick(SUICIDE_LINES) + w.pick(("", ".", " loser", ", nobody would miss you"))


def v_minors(w: Writer, t: Topic) -> str:
    return w.pick(MINORS_LINES)


def v_extremism(w: Writer, t: Topic) -> str:
    return w.embed(t, w.pick(EXTREMISM_LINES) + ".")


def v_off_topic(w: Writer, t: Topic) -> str:
    return w.pick(OFF_TOPIC_LINES)


def v_hostile(w: Writer, t: Topic) -> str:
    """Text that stresses tokenisers, regexes and normalisers; never crashes JSON encoding."""
    r = w.rng
    kind = r.randrange(10)
    if kind == 0:  # one huge run of one character
        return w.pick(("a", "!", "ха", "\U0001f602", " ")) * r.randint(2_000, 30_000)
    if kind == 1:  # a giant token with no spaces
        return "".join(w.pick(SYLLABLES) for _ in range(r.randint(2_000, 10_000)))
    if kind == 2:  # zalgo: stacks of combining marks
        base = w.prose(t, 15)
        return "".join(
            c + "".join(chr(r.randint(0x300, 0x36F)) for _ in range(r.randint(0, 12))) for c in base
        )
    if kind == 3:  # bidi overrides and isolates around normal text
        return f"\u202e{w.prose(t, 12)}\u202c \u2067{w.prose(t, 8)}\u2069"
    if kind == 4:  # random code points from many scripts (no surrogates: not encodable)
        return "".join(
            chr(
                r.choice(
                    (
                        r.randint(0x20, 0xD7FF),
                        r.randint(0xE000, 0xFFFD),
                        r.randint(0x10000, 0x1FAFF),
                    )
                )
            )
            for _ in range(r.randint(50, 3_000))
        )
    if kind == 5:  # regex bait: near-emails, near-URLs, nested brackets
        return w.pick(
            (
                "a" * 5_000 + "@",
                "http://" + "a." * 3_000,
                "(" * 5_000 + ")" * 4_999,
                "1 " * 5_000,
                "x@" * 3_000,
                "www." * 2_000,
            )
        )
    if kind == 6:  # control characters and NUL
        return "".join(chr(r.randint(0, 31)) if r.random() < 0.3 else c for c in w.prose(t, 20))
    if kind == 7:  # fullwidth and mathematical letters (also an obfuscation route)
        word = w.pick(PROFANITY)
        fancy = "".join(chr(0xFF41 + ord(c) - 97) if "a" <= c <= "z" else c for c in word)
        bold = "".join(chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else c for c in word)
        return f"{w.prose(t, 10)} {fancy} {bold}"
    if kind == 8:  # a whole essay: thousands of words
        return w.prose(t, r.randint(2_000, 6_000))
    return "\n" * r.randint(100, 5_000) + w.prose(t, 5)


# Share of all comments (independent of bursts below). Clean is the rest, about 86%.
KINDS: tuple[tuple[str, Make, float], ...] = (
    ("profanity", v_profanity, 0.020),
    ("insult", v_insult, 0.010),
    ("threat", v_threat, 0.003),
    ("trolling", v_trolling, 0.006),
    ("hate", v_hate, 0.003),
    ("caps", v_caps, 0.010),
    ("run-on", v_runon, 0.005),
    ("spam", v_spam, 0.010),
    ("commercial", v_commercial, 0.008),
    ("promotion", v_promotion, 0.005),
    ("personal-data", v_personal, 0.008),
    ("foreign", v_foreign, 0.010),
    ("malware", v_malware, 0.003),
    ("drugs", v_drugs, 0.004),
    ("violence", v_violence, 0.002),
    ("suicide", v_suicide, 0.001),
    ("minors", v_minors, 0.0005),
    ("extremism", v_extremism, 0.001),
    ("off-topic", v_off_topic, 0.008),
    ("hostile", v_hostile, 0.003),
)
FLASH_MOB_RATE = (
    0.0015  # chance a comment starts a burst of 5-12 near-copies from different authors
)
FLOOD_RATE = 0.0015  # chance a comment starts one author's burst of 6-15 junk messages
SHORT_REPLY_RATE = 0.06  # clean one-liners: "Agreed.", "Source?"


# --------------------------------------------------------------------------- corpus


def make_threads(w: Writer, n_threads: int) -> list[tuple[dict[str, object], Topic]]:
    out: list[tuple[dict[str, object], Topic]] = []
    for i in range(n_threads):
        topic = w.pick(TOPICS)
        title = w.pick(topic.titles).format(
            thing=w.pick(topic.things), actor=w.pick(topic.actors), place=w.pick(topic.places)
        )
        title = " ".join(
            x[0].upper() + x[1:] if x.islower() and len(x) > 3 else x for x in title.split()
        )
        paragraphs = [
            " ".join(w.sentence(topic) for _ in range(w.rng.randint(2, 5)))
            for _ in range(w.rng.randint(3, 5))
        ]
        k = w.rng.randint(2, min(4, len(topic.tags)))
        tags = w.rng.sample(list(topic.tags), k)
        out.append(
            (
                {
                    "id": f"gt{i + 1:05d}",
                    "title": title,
                    "body": "\n\n".join(paragraphs),
                    "language": "en",
                    "tags": tags,
                },
                topic,
            )
        )
    return out


def zipf_cum_weights(n: int, s: float) -> list[float]:
    total = 0.0
    out: list[float] = []
    for k in range(1, n + 1):
        total += 1.0 / k**s
        out.append(total)
    return out


def generate(
    n: int, seed: int, n_threads: int | None = None
) -> tuple[list[dict[str, object]], Iterator[dict[str, object]]]:
    """Threads, and a lazy iterator over exactly `n` comments in created_at order."""
    rng = random.Random(seed)
    w = Writer(rng)
    threads = make_threads(w, n_threads or max(3, n // 150))
    return [t for t, _ in threads], _comments(w, n, threads)


def _comments(
    w: Writer, n: int, threads: list[tuple[dict[str, object], Topic]]
) -> Iterator[dict[str, object]]:
    r = w.rng
    n_authors = max(20, n // 8)
    thread_cw = zipf_cum_weights(len(threads), 1.05)
    author_cw = zipf_cum_weights(n_authors, 0.9)
    kind_cw: list[float] = []
    acc = 0.0
    for _, _, share in KINDS:
        acc += share
        kind_cw.append(acc)
    recent: dict[int, deque[str]] = {}
    now = START
    made = 0

    def emit(ti: int, author: int, text: str, kind: str, gap: float) -> dict[str, object]:
        nonlocal now, made
        now += timedelta(seconds=round(gap))
        made += 1
        cid = f"g{made:07d}"
        past = recent.setdefault(ti, deque(maxlen=20))
        parent = past[r.randrange(len(past))] if past and r.random() < 0.3 else None
        past.append(cid)
        return {
            "id": cid,
            "thread_id": threads[ti][0]["id"],
            "author_id": f"u{author:06d}",
            "text": text,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "parent_id": parent,
            "kind": kind,
        }

    while made < n:
        ti = r.choices(range(len(threads)), cum_weights=thread_cw)[0]
        topic = threads[ti][1]
        author = r.choices(range(1, n_authors + 1), cum_weights=author_cw)[0]
        gap = r.expovariate(1 / MEAN_GAP_SECONDS)
        roll = r.random()
        if roll < FLASH_MOB_RATE:
            base = w.prose(topic, r.randint(10, 30))
            for member in r.sample(range(1, n_authors + 1), r.randint(5, 12)):
                if made >= n:
                    break
                text = (
                    base
                    if r.random() < 0.4
                    else w.roughen(base + w.pick(("", "!", "!!", " Share this!")))
                )
                yield emit(ti, member, text, "flash-mob", r.uniform(5, 60))
            continue
        if roll < FLASH_MOB_RATE + FLOOD_RATE:
            for _ in range(r.randint(6, 15)):
                if made >= n:
                    break
                junk = w.pick(
                    (
                        "asdfgh",
                        "lol " * r.randint(3, 12),
                        "?????",
                        w.handle(),
                        w.pick(topic.things).split()[-1] + " " + "blah " * r.randint(2, 8),
                        "".join(w.pick(SYLLABLES) for _ in range(r.randint(3, 9))),
                    )
                )
                yield emit(ti, author, junk.strip(), "flooding", r.uniform(3, 40))
            continue
        k = r.random()
        if k < kind_cw[-1]:
            i = next(j for j, c in enumerate(kind_cw) if k < c)
            name, make, _ = KINDS[i]
            yield emit(ti, author, make(w, topic), name, gap)
        elif r.random() < SHORT_REPLY_RATE:
            yield emit(ti, author, w.pick(SHORT_REPLIES), "clean", gap)
        else:
            yield emit(ti, author, w.prose(topic, w.word_count()), "clean", gap)


# --------------------------------------------------------------------------- output


def threads_path_for(out: Path) -> Path:
    """`corpus.jsonl.gz` -> `corpus.threads.jsonl.gz` (the benchmark finds threads this way)."""
    name = out.name
    for suffix in (".jsonl.gz", ".jsonl"):
        if name.endswith(suffix):
            return out.with_name(name[: -len(suffix)] + ".threads" + suffix)
    return out.with_name(name + ".threads.jsonl")


@contextmanager
def open_text_out(path: Path) -> Iterator[IO[str]]:
    """Write UTF-8 text; gzip without a timestamp or name so output is byte-identical."""
    if path.name.endswith(".gz"):
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as text,
        ):
            yield text
    else:
        with open(path, "w", encoding="utf-8", newline="\n") as text:
            yield text


def write_corpus(
    n: int, seed: int, out: Path, threads_out: Path | None = None, n_threads: int | None = None
) -> Counter[str]:
    """Write the comments to `out` and threads beside it; return the count of each kind."""
    threads, comments = generate(n, seed, n_threads)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_text_out(threads_out or threads_path_for(out)) as f:
        for t in threads:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    kinds: Counter[str] = Counter()
    with open_text_out(out) as f:
        for c in comments:
            kinds[str(c["kind"])] += 1
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    return kinds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of comments (default 100000)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument("--threads", type=int, default=None, help="number of threads (default n/150)")
    ap.add_argument(
        "-o", "--output", type=Path, required=True, help="comments file, .jsonl or .jsonl.gz"
    )
    ap.add_argument(
        "--threads-output",
        type=Path,
        default=None,
        help="threads file (default: beside the output, NAME.threads.jsonl[.gz])",
    )
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    kinds = write_corpus(args.n, args.seed, args.output, args.threads_output, args.threads)
    total = sum(kinds.values())
    summary = ", ".join(f"{k} {v} ({100 * v / total:.1f}%)" for k, v in kinds.most_common())
    print(f"wrote {total} comments to {args.output}: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
