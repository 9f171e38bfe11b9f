#!/usr/bin/env python3
"""Generate seeded, labeled scenarios for the stateful rules (flash mob, flooding).

    python benchmarks/stateful_scenarios.py --seed 1 -o fixtures/stateful-scenarios.jsonl

What is in a file (every line a comment in the input format plus `categories`, and a
`scenario` note saying what generated it):

- flash mobs (`flash-mob`): 8-12 near-identical comments from different new accounts
  within a few minutes, each copy edited a little — case, punctuation, an emoji, a typo,
  a word dropped or swapped, sentences reordered, a short lead-in — in one thread or
  across threads;
- flooders (`flooding`): one account posting 8-12 incoherent messages in one thread
  within minutes — key-mash, one letter or syllable repeated, punctuation runs, the same
  word over and over, consonant strings, bare words, copies of its own messages, now and
  then a real sentence;
- busy debaters (clean): one account posting 8-15 real comments in one thread within ten
  minutes, some of them short replies;
- popular short replies (clean): 10-20 accounts answering "Agreed.", "Well said",
  "Thanks for sharing", "+1" within minutes;
- quoting crowds (clean): several accounts quoting the same headline, each with their own
  opinion;
- background chatter (clean) across the threads.

Pure stdlib; the output depends only on the arguments (one seeded `random.Random`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2017, 4, 19, 12, 0, tzinfo=UTC)
SPAN_SECONDS = 4 * 3600
THREADS = ("t-tram", "t-budget", "t-space", "t-election", "t-health", "t-football")

SUBJECTS = (
    "the council",
    "the minister",
    "the mayor",
    "the opposition",
    "the new budget",
    "the tram plan",
    "the health service",
    "the space agency",
    "the referee",
    "the central bank",
    "the coach",
    "the electoral commission",
    "the report",
    "the government",
    "the union",
    "local residents",
    "the regulator",
    "the hospital board",
    "the transport authority",
    "the finance committee",
)
VERBS = (
    "should publish",
    "has ignored",
    "cannot afford",
    "keeps delaying",
    "will never admit",
    "ought to rethink",
    "underestimated",
    "quietly dropped",
    "must explain",
    "has doubled",
    "is right about",
    "got wrong",
    "voted against",
    "wants to cut",
    "promised to fund",
)
OBJECTS = (
    "the real costs",
    "the bus routes",
    "the waiting lists",
    "the launch schedule",
    "the pension fund",
    "the penalty decision",
    "the interest rates",
    "the ballot counting",
    "the ring road repairs",
    "the nurses' pay",
    "the stadium lease",
    "the audit findings",
    "the rail subsidy",
    "the school meals",
    "the housing target",
    "the satellite contract",
    "the tax rebate",
    "the night trains",
)
TAILS = (
    "and nobody seems to care.",
    "which is exactly the problem.",
    "as anyone could have predicted.",
    "for the third year running.",
    "if you read the figures in the article.",
    "according to the report.",
    "and the article barely mentions it.",
    "so I doubt anything will change.",
    "and that worries me.",
    "which I find hard to believe.",
    "but I'd like to see the evidence.",
    "like last time.",
)
OPENERS = (
    "Honestly,",
    "I think",
    "In my view",
    "Frankly",
    "To be fair,",
    "Look,",
    "As a resident,",
    "Remember that",
    "The point is",
    "Funny how",
    "Let's be clear:",
    "",
)
SHORT_REPLIES = (
    "Agreed.",
    "Agreed!",
    "Well said",
    "Well said.",
    "Thanks for sharing",
    "Thanks for sharing!",
    "+1",
    "So true!",
    "This!",
    "Exactly.",
    "Great article, thanks",
    "Spot on.",
    "Totally agree",
    "Couldn't agree more",
    "Good point.",
    "lol",
    "Source?",
    "Thank you!",
    "Well put",
)
EMOJI = ("😡", "👍", "🔥", "‼️", "🙏", "💯", "👇", "🚨", "😂", "🤔")
MOB_TEMPLATES = (
    "{S} is hiding the truth about {O}! Share this before it gets deleted #{T}",
    "Wake up people, {S} {V} {O} and the media says nothing. #{T}",
    "Sign the petition now: {S} {V} {O}. Enough is enough! #{T}",
    "Boycott everyone who supports {S}, they {V} {O} #{T}",
    "{S} {V} {O}. Demand answers today and tell your friends #{T}",
    "Do not trust {S}! They {V} {O} and lied about it #{T}",
    "Call your representative: {S} {V} {O} and we must stop them #{T}",
)
LEAD_INS = ("Read this:", "RT", "Everyone:", "Please share", "IMPORTANT")
KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
SYLLABLES = ("lo", "ha", "jk", "hjk", "xd", "na", "he", "blah ")
FLOOD_WORDS = ("bus", "tram", "no", "yes", "first", "lol", "ok", "what", "daesh", "money", "hello")
CONSONANTS = "bcdfghjklmnpqrstvwxz"


@dataclass
class Scenario:
    rng: random.Random
    lines: list[dict[str, object]] = field(default_factory=list)
    authors: int = 0

    def account(self, kind: str) -> str:
        self.authors += 1
        return f"{kind}{self.authors:05d}"

    def add(
        self, at: float, author: str, thread: str, text: str, categories: list[str], kind: str
    ) -> None:
        self.lines.append(
            {
                "thread_id": thread,
                "author_id": author,
                "text": text,
                "created_at": (START + timedelta(seconds=round(at, 1)))
                .isoformat()
                .replace("+00:00", "Z"),
                "parent_id": None,
                "categories": categories,
                "scenario": kind,
            }
        )


def sentence(rng: random.Random) -> str:
    opener = rng.choice(OPENERS)
    body = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}"
    text = f"{opener} {body}" if opener else body[0].upper() + body[1:]
    if rng.random() < 0.4:
        text += (
            " "
            + rng.choice(SUBJECTS).capitalize()
            + " "
            + rng.choice(VERBS)
            + " "
            + rng.choice(OBJECTS)
            + "."
        )
    return text


def slogan(rng: random.Random) -> str:
    tag = "".join(
        w.capitalize() for w in rng.choice(OBJECTS).replace("'", "").split()[1:]
    ) + rng.choice(("Now", "Truth", "Scandal", "Exposed", ""))
    text = rng.choice(MOB_TEMPLATES).format(
        S=rng.choice(SUBJECTS), V=rng.choice(VERBS), O=rng.choice(OBJECTS), T=tag
    )
    return text[0].upper() + text[1:]


def edit(rng: random.Random, text: str) -> str:
    """A copy as a mob member would post it: one to three small edits."""
    for _ in range(rng.randint(1, 3)):
        move = rng.choice(("case", "punct", "emoji", "typo", "drop", "reorder", "lead", "shout"))
        words = text.split()
        if move == "case":
            text = text.lower() if rng.random() < 0.5 else text.upper()
        elif move == "shout" and len(words) > 3:
            i = rng.randrange(len(words))
            words[i] = words[i].upper()
            text = " ".join(words)
        elif move == "punct":
            text = text.replace("!", rng.choice(("!!", ".", "!!!", ""))).replace(
                ",", rng.choice((",", "", " -"))
            )
        elif move == "emoji":
            text = f"{text} {rng.choice(EMOJI) * rng.randint(1, 3)}"
        elif move == "typo" and len(words) > 3:
            i = rng.randrange(len(words))
            w = words[i]
            if len(w) > 3:
                j = rng.randrange(len(w) - 1)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            text = " ".join(words)
        elif move == "drop" and len(words) > 6:
            del words[rng.randrange(1, len(words))]
            text = " ".join(words)
        elif move == "reorder":
            for mark in ("! ", ". ", ": ", ", "):
                if mark in text:
                    a, b = text.split(mark, 1)
                    text = f"{b.rstrip()} {a}{mark.strip()}"
                    break
        elif move == "lead":
            text = f"{rng.choice(LEAD_INS)} {text}"
    return text


def gibberish(rng: random.Random, own: list[str]) -> str:
    kind = rng.choice(
        ("mash", "char", "syllable", "punct", "word", "consonants", "bare", "copy", "sentence")
    )
    if kind == "mash":
        row = rng.choice(KEY_ROWS)
        start = rng.randrange(len(row) - 4)
        run = row[start : start + rng.randint(5, len(row) - start)]
        return " ".join([run] * rng.randint(1, 3))
    if kind == "char":
        return rng.choice("abcdefghijklmnopqrstuvwxyz") * rng.randint(6, 25)
    if kind == "syllable":
        return (rng.choice(SYLLABLES) * rng.randint(4, 12)).strip()
    if kind == "punct":
        return rng.choice(("?", "!", ".", "?!", "*")) * rng.randint(5, 25)
    if kind == "word":
        return " ".join([rng.choice(FLOOD_WORDS)] * rng.randint(3, 8))
    if kind == "consonants":
        return "".join(rng.choice(CONSONANTS) for _ in range(rng.randint(5, 12)))
    if kind == "bare":
        return rng.choice(FLOOD_WORDS)
    if kind == "copy" and own:
        return rng.choice(own)
    if kind == "sentence" and rng.random() < 0.5:
        return sentence(rng)
    return rng.choice(FLOOD_WORDS).upper() + "!!!"


def generate(
    seed: int, mobs: int = 12, flooders: int = 12, debaters: int = 12, crowds: int = 8
) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    s = Scenario(rng)
    # Background chatter: many accounts, a comment every ~20 s across the threads.
    regulars = [s.account("reg") for _ in range(250)]
    at = 0.0
    while at < SPAN_SECONDS:
        s.add(at, rng.choice(regulars), rng.choice(THREADS), sentence(rng), [], "background")
        at += rng.expovariate(1 / 20)
    for _ in range(mobs):
        base, start = slogan(rng), rng.uniform(0, SPAN_SECONDS - 900)
        site_wide = rng.random() < 0.3
        thread = rng.choice(THREADS)
        t = start
        for _ in range(rng.randint(8, 12)):
            s.add(
                t,
                s.account("mob"),
                rng.choice(THREADS) if site_wide else thread,
                edit(rng, base),
                ["flash-mob"],
                "mob",
            )
            t += rng.uniform(5, 40)
    for _ in range(flooders):
        author, thread, t = (
            s.account("flood"),
            rng.choice(THREADS),
            rng.uniform(0, SPAN_SECONDS - 900),
        )
        own: list[str] = []
        for _ in range(rng.randint(8, 12)):
            text = gibberish(rng, own)
            own.append(text)
            s.add(t, author, thread, text, ["flooding"], "flooder")
            t += rng.uniform(8, 40)
    for _ in range(debaters):
        author, thread, t = (
            s.account("deb"),
            rng.choice(THREADS),
            rng.uniform(0, SPAN_SECONDS - 900),
        )
        for _ in range(rng.randint(8, 15)):
            text = rng.choice(SHORT_REPLIES) if rng.random() < 0.25 else sentence(rng)
            s.add(t, author, thread, text, [], "debater")
            t += rng.uniform(20, 60)
    for _ in range(crowds):
        thread, t = rng.choice(THREADS), rng.uniform(0, SPAN_SECONDS - 900)
        for _ in range(rng.randint(10, 20)):
            s.add(t, s.account("fan"), thread, rng.choice(SHORT_REPLIES), [], "short-replies")
            t += rng.uniform(3, 30)
    for _ in range(crowds):
        headline = (
            f'"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"'
        )
        thread, t = rng.choice(THREADS), rng.uniform(0, SPAN_SECONDS - 900)
        for _ in range(rng.randint(5, 8)):
            s.add(
                t,
                s.account("quote"),
                thread,
                f"{headline} - {sentence(rng)} {sentence(rng)}",
                [],
                "quoting",
            )
            t += rng.uniform(10, 60)
    s.lines.sort(key=lambda line: str(line["created_at"]))
    for index, line in enumerate(s.lines):
        yield {"id": f"s{seed}-{index:05d}", **line}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    lines = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in generate(args.seed))
    if args.output == "-":
        sys.stdout.write(lines)
    else:
        Path(args.output).write_text(lines, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
