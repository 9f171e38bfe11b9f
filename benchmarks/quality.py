#!/usr/bin/env python3
"""Score the default ruleset on public labeled data sets and write docs/quality.md.

    python benchmarks/quality.py /path/to/datasets -o docs/quality.md
    python benchmarks/quality.py /path/to/datasets --no-ml --limit 500      # quicker

Each public set labels its own notion (hate, toxic, spam, language, ...); every one is
mapped here onto our category ids, and a task is "does the verdict put the comment in
one of the mapped categories?", scored as precision, recall, F1 and the share of
negatives flagged (FPR). The mapping and the reason for it are in the table of DATASETS
below and are written into the report. The data stay outside the repository: the
script reads the folder given and says which sets are missing.

Rows are a seeded random sample of at most --limit per set (all rows when smaller), so
the report is reproducible. The comparison column is copied from ANCHORS.md in the
data folder (what off-the-shelf offline tools score on the same sets).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modrules import Moderator
from modrules.model import CATEGORIES, Comment, Thread
from modrules.rules import load_ruleset

csv.field_size_limit(1 << 30)

TOXIC = frozenset({"hate", "insult-threat", "profanity", "trolling", "violence", "extremism"})
HARMFUL = frozenset({"hate", "insult-threat", "trolling", "violence", "extremism", "suicide", "minors", "profanity"})
PROMO = frozenset({"spam", "commercial", "third-party-promotion", "malware"})
ABUSE = frozenset({"hate", "insult-threat", "trolling"})

NOTES_MARKER = "<!-- notes: everything below is hand-written and kept when benchmarks/quality.py rewrites this file -->"

Labels = dict[str, Any]  # each set's own label columns, as read


@dataclass
class Row:
    comment: Comment
    thread: Thread | None
    labels: Labels


@dataclass
class Task:
    name: str
    mapped: frozenset[str]  # our categories that count as "positive"
    gold: Callable[[Labels], bool | None]  # None: the row does not take part in this task
    anchor: str = ""


@dataclass
class Dataset:
    name: str  # the folder in the data directory
    files: list[str]
    load: Callable[[Path], Iterator[Row]]
    tasks: list[Task]
    why: str  # the mapping, and why
    rows: int = 0  # rows scored (after sampling)
    results: dict[str, list[TaskResult]] = field(default_factory=dict)  # by mode
    speed: dict[str, float] = field(default_factory=dict)  # comments/s by mode


@dataclass
class TaskResult:
    task: Task
    n: int
    positives: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def fpr(self) -> float:
        negatives = self.n - self.positives
        return self.fp / negatives if negatives else 0.0


def _csv(path: Path, delimiter: str = ",") -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f, delimiter=delimiter)


def _row(cid: str, text: str, labels: Labels, thread: Thread | None = None) -> Row:
    return Row(Comment(id=cid, text=text, thread_id=thread.id if thread else None), thread, labels)


# --- loaders: one per set, each yields every row it can use ---------------------------------


def load_davidson(root: Path) -> Iterator[Row]:
    for r in _csv(root / "labeled_data.csv"):
        yield _row(f"d{r['']}", r["tweet"], {"class": int(r["class"])})


def load_youtube(root: Path) -> Iterator[Row]:
    for r in _csv(root / "youtube_spam_all.csv"):
        yield _row(r["COMMENT_ID"], r["CONTENT"], {"spam": r["CLASS"] == "1"})


def load_sms(root: Path) -> Iterator[Row]:
    with (root / "SMSSpamCollection.tsv").open(encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            label, _, text = line.rstrip("\n").partition("\t")
            if text:
                yield _row(f"sms{i}", text, {"spam": label == "spam"})


def load_jigsaw(root: Path) -> Iterator[Row]:
    keys = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
    for i, r in enumerate(_csv(root / "jigsaw_toxic_sample.csv")):
        yield _row(r["id"] or f"j{i}", r["comment_text"], {k: r[k] == "1" for k in keys})


def load_jigsaw_multilingual(root: Path) -> Iterator[Row]:
    for r in _csv(root / "test_with_labels.csv"):
        yield _row(f"m{r['id']}", r["comment_text"], {"toxic": r["toxic"] == "1", "lang": r["lang"]})


def load_openai(root: Path) -> Iterator[Row]:
    with (root / "samples-1680.jsonl").open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            data = json.loads(line)
            yield _row(f"o{i}", data.pop("prompt"), data)


def load_fox(root: Path) -> Iterator[Row]:
    threads: dict[str, Thread] = {}
    for i, r in enumerate(_csv(root / "fox_news_comments.csv")):
        tid = f"fox{r['thread_id']}"
        thread = threads.setdefault(tid, Thread(id=tid, title=r["article_title"], body=r["article_meta"]))
        yield _row(f"f{i}", r["comment_text"], {"hateful": r["label"] == "1"}, thread)


def load_socc_ctc(root: Path) -> Iterator[Row]:
    threads: dict[str, Thread] = {}
    for r in _csv(root / "SFU_constructiveness_toxicity.csv"):
        title = r["title"]
        thread = threads.setdefault(title, Thread(id=f"ctc{len(threads)}", title=title))
        yield _row(f"ctc{r['_unit_id']}", r["comment"], {"toxicity": int(r["is_toxic_popular_answer_1"])}, thread)


def load_socc_c3(root: Path) -> Iterator[Row]:
    for r in _csv(root / "C3_anonymized.csv"):
        yield _row(r["comment_counter"], r["comment_text"], {"toxicity": float(r["crowd_toxicity_level"])})


def load_lingua(root: Path) -> Iterator[Row]:
    for i, r in enumerate(_csv(root / "langid_testdata.csv")):
        yield _row(f"l{i}", r["text"], {"lang": r["lang"], "kind": r["kind"]})


def load_globe(root: Path) -> Iterator[Row]:
    """Each comment twice: under its own article (on topic) and under a wrong one (off topic)."""
    articles = {
        r["article_id"]: Thread(id=f"g{r['article_id']}", title=r["title"].removesuffix(" - The Globe and Mail"), body=r["article_text"])
        for r in _csv(root / "articles.csv")
    }
    pick = random.Random(17)
    ids = sorted(articles)
    for r in _csv(root / "comments.csv"):
        own = articles.get(r["article_id"])
        if own is None or not r["comment_text"].strip():
            continue
        wrong = articles[pick.choice([a for a in ids if a != r["article_id"]])]
        base = {"top": r["depth"] == "0", "status": r["status"]}
        yield _row(r["comment_id"], r["comment_text"], {**base, "off": False}, own)
        yield _row(r["comment_id"] + "-x", r["comment_text"], {**base, "off": True}, wrong)


def _kind(kind: str) -> Callable[[Labels], bool | None]:
    return lambda l: (l["lang"] != "en") if l["kind"] == kind else None


def _known(key: str) -> Callable[[Labels], bool | None]:
    return lambda l: bool(l[key]) if key in l else None


DATASETS = [
    Dataset(
        "davidson-hate-offensive", ["labeled_data.csv"], load_davidson,
        [
            Task("hate vs rest", frozenset({"hate"}), lambda l: l["class"] == 0, "alt-profanity-check P 0.064 R 0.912 F1 0.12"),
            Task("hate or offensive vs neither", TOXIC, lambda l: l["class"] != 2, "alt-profanity-check F1 0.978 (its training data)"),
        ],
        "Tweets labeled hate speech / offensive / neither. *Hate* is our clause 2 (`hate`). *Offensive* "
        "(mostly slurs and swearing used casually) is what clauses 5, 12 and 18 forbid, so "
        "hate-or-offensive maps to the abusive categories (hate, insult-threat, profanity, trolling, violence, extremism).",
    ),
    Dataset(
        "youtube-spam", ["youtube_spam_all.csv"], load_youtube,
        [Task("spam vs ham", PROMO, lambda l: l["spam"], "URL/\"check out\"/\"subscribe\" rule P 0.984 R 0.844 F1 0.908")],
        "YouTube comments labeled spam: channel promotion (\"check out my channel\"), links to shops and "
        "get-rich-quick offers. Those are clauses 10, 11, 13 and 15, so spam maps to spam, commercial, "
        "third-party-promotion and malware.",
    ),
    Dataset(
        "sms-spam-collection", ["SMSSpamCollection.tsv"], load_sms,
        [Task("spam vs ham", PROMO, lambda l: l["spam"], "the same rule P 0.899 R 0.214 F1 0.346")],
        "SMS messages, not comments: prize claims, premium numbers, offers. Same mapping as YouTube spam. "
        "Text-speak ham ('Ok lar... Joking wif u oni') is a hard negative for our non-standard-English rules, "
        "which this task does not count.",
    ),
    Dataset(
        "jigsaw-toxic-sample", ["jigsaw_toxic_sample.csv"], load_jigsaw,
        [
            Task("toxic vs clean", TOXIC, lambda l: any(l.values()), "alt-profanity-check F1 0.833 (mostly its training data)"),
            Task("obscene -> profanity", frozenset({"profanity"}), lambda l: l["obscene"]),
            Task("insult -> insult-threat/trolling", frozenset({"insult-threat", "trolling"}), lambda l: l["insult"]),
            Task("threat -> insult-threat/violence", frozenset({"insult-threat", "violence"}), lambda l: l["threat"]),
            Task("identity_hate -> hate", frozenset({"hate"}), lambda l: l["identity_hate"]),
        ],
        "Wikipedia talk comments with six toxicity flags. Any flag = toxic, mapped to the abusive categories. "
        "The flags map one-to-one where the standards have a clause: obscene to profanity (12), insult to "
        "insult-threat or trolling (5, 18), threat to insult-threat or violence (5, 8), identity_hate to hate (2).",
    ),
    Dataset(
        "jigsaw-multilingual-subset", ["test_with_labels.csv"], load_jigsaw_multilingual,
        [
            Task("toxic vs not (es/fr/it/pt/ru/tr)", TOXIC, lambda l: l["toxic"], "alt-profanity-check P 0.41 R 0.049 F1 0.087"),
            Task("foreign language (all rows are)", frozenset({"foreign-language"}), lambda l: True),
        ],
        "Wikipedia comments in six other languages with a toxic flag. Our English rules are not expected to "
        "find toxicity here; clause 20 removes every one of these comments anyway, which the second task checks.",
    ),
    Dataset(
        "openai-moderation-eval", ["samples-1680.jsonl"], load_openai,
        [
            Task("any category vs none", HARMFUL, lambda l: any(v == 1 for v in l.values()),
                 "alt-profanity-check P 0.767 R 0.510 F1 0.612"),
            Task("H hate -> hate", frozenset({"hate"}), _known("H"), "alt-profanity-check recall 0.47"),
            Task("HR harassment -> insult-threat/trolling", frozenset({"insult-threat", "trolling"}), _known("HR"), "recall 0.71"),
            Task("V violence -> violence/insult-threat/extremism", frozenset({"violence", "insult-threat", "extremism"}), _known("V"), "recall 0.42"),
            Task("SH self-harm -> suicide", frozenset({"suicide"}), _known("SH"), "recall 0.29"),
            Task("S3 sexual/minors -> minors", frozenset({"minors"}), _known("S3"), ""),
        ],
        "Prompts and texts labeled with OpenAI's taxonomy; a missing key means unlabeled, and such rows are left "
        "out of that task. Any label maps to the harmful categories. hate to hate (2), harassment to "
        "insult-threat/trolling (5, 18), violence to violence, threats or extremism (8, 5, 4), self-harm to "
        "suicide (9), sexual/minors to minors (3). Plain *sexual* has no clause of its own (only its wording can "
        "be profanity), so it takes part only in the any-category task.",
    ),
    Dataset(
        "fox-news-comments", ["fox_news_comments.csv"], load_fox,
        [Task("hateful vs not", ABUSE, lambda l: l["hateful"], "alt-profanity-check P 0.444 R 0.101 F1 0.165 (all: F1 0.443)")],
        "Fox News comments labeled hateful by annotators who read the thread: attacks on groups and on "
        "people, often without any slur. That spans hate, insult-threat and trolling (clauses 2, 5, 18). "
        "The article headline and description are passed as the thread.",
    ),
    Dataset(
        "socc-constructiveness-toxicity", ["SFU_constructiveness_toxicity.csv"], load_socc_ctc,
        [Task("toxic (3-4) vs not toxic (1)", TOXIC, lambda l: {1: False, 3: True, 4: True}.get(l["toxicity"]))],
        "Globe and Mail comments with a crowd toxicity grade 1-4. Grades 3-4 (toxic, very toxic) map to the "
        "abusive categories; grade 1 is a negative; grade 2 (mildly toxic: sarcasm, rudeness a moderator "
        "would often let through) is left out as ambiguous.",
    ),
    Dataset(
        "socc-c3", ["C3_anonymized.csv"], load_socc_c3,
        [Task("toxic (mean >= 2.5) vs not (1.0)", TOXIC,
              lambda l: True if l["toxicity"] >= 2.5 else False if l["toxicity"] == 1.0 else None)],
        "12,000 Globe and Mail comments with the mean of crowd toxicity grades (1-4). A mean of 2.5 or more "
        "maps to the abusive categories; a unanimous 1.0 is a negative; the rest is left out as ambiguous.",
    ),
    Dataset(
        "langid-lingua-testdata", ["langid_testdata.csv"], load_lingua,
        [
            Task("sentences: not English -> foreign-language", frozenset({"foreign-language"}), _kind("sentence"),
                 "py3langid \"is it English?\" F1 0.999, lingua 0.994"),
            Task("word pairs: not English -> foreign-language", frozenset({"foreign-language"}), _kind("word_pair"),
                 "py3langid 0.873, lingua 0.934"),
            Task("single words: not English -> foreign-language", frozenset({"foreign-language"}), _kind("single_word"),
                 "py3langid 0.617, lingua 0.761"),
        ],
        "Sentences, word pairs and single words in English and ten other languages (ru, uk, de, fr, es, ar, "
        "be, bg, it, pt). Not English maps to foreign-language (clause 20). The anchors are F1 of the "
        "opposite question (\"is it English?\"), so compare FPR and recall rather than F1 alone.",
    ),
    Dataset(
        "globe-articles-comments", ["articles.csv", "comments.csv"], load_globe,
        [
            Task("off-topic: own vs wrong article", frozenset({"off-topic"}), lambda l: bool(l["off"]),
                 "MiniLM cosine AUC 0.798; cos < 0.2: P 0.74 R 0.68"),
            Task("off-topic, top-level comments", frozenset({"off-topic"}), lambda l: bool(l["off"]) if l["top"] else None, "AUC 0.90"),
            Task("off-topic, replies", frozenset({"off-topic"}), lambda l: None if l["top"] else bool(l["off"]), "AUC 0.76"),
            Task("rejected by moderators vs published (own article)", frozenset(CATEGORIES),
                 lambda l: None if l["off"] or l["status"] == "deleted" else l["status"] == "rejected"),
        ],
        "Real comments on 4 opinion articles, each judged twice: under its own article (should stay on topic) "
        "and under another article picked at random from the 57 (should be off-topic, clause 1); both "
        "directions are in the one task, so precision tells how often a real on-topic comment is called "
        "off-topic. The platform's own `rejected` status is a weak label for \"broke some rule\".",
    ),
]


def sample(dataset: Dataset, root: Path, limit: int) -> list[Row]:
    rows = list(dataset.load(root))
    if 0 < limit < len(rows):
        rows = random.Random(7).sample(rows, limit)
    return rows


def ml_switch() -> str | None:
    """The name of load_ruleset's switch that turns the ML checkers off, if this version has one."""
    params = inspect.signature(load_ruleset).parameters
    return next((p for p in ("disable_ml", "no_ml") if p in params), None)


def moderator(rules: Path | None, no_ml: bool) -> Moderator:
    switch = ml_switch()
    if no_ml and switch:
        return Moderator(load_ruleset(rules, **{switch: True}))
    return Moderator(load_ruleset(rules))


def run(dataset: Dataset, rows: list[Row], loaded: Moderator, mode: str) -> None:
    # A fresh Moderator over the compiled ruleset: checks that remember earlier comments
    # (flash mobs, flooding) must not carry one set's comments into the next.
    judge = Moderator(loaded.ruleset)
    pairs = [(r.comment, r.thread) for r in rows]
    started = time.perf_counter()
    verdicts = list(judge.moderate_many(pairs))
    seconds = time.perf_counter() - started
    dataset.speed[mode] = len(rows) / seconds if seconds else 0.0
    results = []
    for task in dataset.tasks:
        result = TaskResult(task, 0, 0, 0, 0, 0)
        for row, verdict in zip(rows, verdicts, strict=True):
            gold = task.gold(row.labels)
            if gold is None:
                continue
            guessed = not task.mapped.isdisjoint(verdict.categories)
            result.n += 1
            result.positives += gold
            result.tp += gold and guessed
            result.fp += guessed and not gold
            result.fn += gold and not guessed
        results.append(result)
    dataset.results[mode] = results


def report(datasets: list[Dataset], missing: list[str], modes: list[str], notes: list[str], limit: int, rules: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Quality on public data sets",
        "",
        (f"Generated by `benchmarks/quality.py` on {now} ({platform.machine()}, Python {platform.python_version()}, "
        f"one process), ruleset: {rules}. Each set is a seeded random sample of at most {limit} rows. "
        "A task asks whether the verdict puts the comment in one of the *mapped* categories; P, R, F1 are "
        "for that yes/no question and FPR is the share of the task's negatives flagged. "
        "The comparison column is what off-the-shelf offline tools score on the same sets "
        "(from the data folder's ANCHORS.md; not always the same question, see the notes)."),
        "",
        ("These sets were not written for this site's standards: a low figure can mean the label and the "
        "clause disagree (e.g. casual swearing in tweets), not only that a rule misses. None of them was "
        "used to write or tune rules."),
        "",
    ]
    out += [f"> {n}" for n in notes] + ([""] if notes else [])
    header = "| set | task | mapped categories | n (pos) |"
    rule_line = "|---|---|---|---|"
    for mode in modes:
        header += f" P / R / F1 / FPR ({mode}) |"
        rule_line += "---|"
    header += " comparison | comments/s |"
    rule_line += "---|---|"
    out += ["## Results", "", header, rule_line]
    for d in datasets:
        for i, task in enumerate(d.tasks):
            first = d.results[modes[0]][i]
            mapped = ", ".join(sorted(task.mapped)) if len(task.mapped) < len(CATEGORIES) else "any"
            cells = [d.name if i == 0 else "", task.name, mapped, f"{first.n} ({first.positives})"]
            for mode in modes:
                r = d.results[mode][i]
                cells.append(f"{r.precision:.2f} / {r.recall:.2f} / **{r.f1:.2f}** / {r.fpr:.3f}")
            speed = " / ".join(f"{d.speed[m]:,.0f}" for m in modes) if i == 0 else ""
            cells += [task.anchor, speed]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += ["", f"comments/s: judging only (rows already parsed), {' / '.join(modes)}.", ""]
    out += ["## How each set is mapped onto our categories, and why", ""]
    for d in datasets:
        out += [f"- **{d.name}** ({d.rows} rows scored): {d.why}"]
    out += [
        "",
        "## Caveats",
        "",
        ("- Samples are seeded (the same rows every run) but small sets with few positives (Jigsaw threats, "
        "OpenAI self-harm) give wide error bars: one comment moves F1 by several points."),
        ("- Each comment is judged on its own with, where the set has one, the article as the thread; "
        "replies are not given their parent comment, so they are judged against the article alone."),
        ("- Every rule runs on every set, and only the mapped categories count: a comment deleted for another "
        "reason (e.g. a tweet flagged non-standard-english) is a miss for the task and not a false positive."),
        ("- comments/s is one process on this machine, judging only, with models loaded beforehand; ML "
        "checkers run in batches of 64."),
    ]
    if missing:
        out += ["", "## Missing", "", *[f"- {m}" for m in missing]]
    out += [
        "",
        "## Reproduce",
        "",
        "```sh",
        "python benchmarks/quality.py /path/to/datasets -o docs/quality.md    # the data stay outside the repo",
        "```",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", type=Path, help="the folder holding the public data sets")
    parser.add_argument("-o", "--output", type=Path, default=None, help="write the Markdown report here (default: stdout)")
    parser.add_argument("--no-ml", action="store_true", help="only the rules-only run (no ML extras)")
    parser.add_argument("--limit", type=int, default=2000, help="rows sampled per set (0: all)")
    parser.add_argument("--rules", type=Path, default=None, help="ruleset (default: the bundled one)")
    parser.add_argument("--only", nargs="*", default=None, help="only these sets (folder names)")
    args = parser.parse_args(argv)
    if not args.datasets.is_dir():
        print(f"no such folder: {args.datasets}", file=sys.stderr)
        return 2
    chosen = [d for d in DATASETS if args.only is None or d.name in args.only]
    present, missing = [], []
    for d in chosen:
        absent = [f for f in d.files if not (args.datasets / d.name / f).is_file()]
        if absent:
            missing.append(f"{d.name}: {', '.join(absent)} not found in {args.datasets / d.name}")
            print(f"missing: {missing[-1]}", file=sys.stderr)
        else:
            present.append(d)
    notes = []
    modes = ["rules only"] if args.no_ml else ["rules only", "with ML"]
    if not args.no_ml and ml_switch() is None:
        modes = ["as installed"]
        notes.append(
            "This version of modrules has no switch to turn the ML checkers off (`disable_ml`), so there is "
            "one run, with whatever checkers this install can run."
        )
    judges = {mode: moderator(args.rules, no_ml=mode == "rules only") for mode in modes}
    for mode, judge in judges.items():
        skipped = sorted(r.id for r in judge.ruleset.rules if r.unavailable)
        if skipped:
            notes.append(f"{mode}: {len(skipped)} rule(s) could not run: {', '.join(skipped)}.")
    for judge in judges.values():
        # Models load lazily on first use; load them now so no set's throughput pays for it.
        warm_thread = Thread(id="warm-up", title="Warm-up article", body="A short article body.")
        list(judge.moderate_many([(Comment(id="w", text="A warm-up comment, in English."), warm_thread)]))
    for d in present:
        rows = sample(d, args.datasets / d.name, args.limit)
        d.rows = len(rows)
        for mode, judge in judges.items():
            print(f"{d.name}: {len(rows)} rows, {mode} ...", file=sys.stderr, flush=True)
            run(d, rows, judge, mode)
    rules_name = str(args.rules) if args.rules else "the bundled default (rules/sputnik)"
    text = report(present, missing, modes, notes, args.limit, rules_name)
    if args.output:
        # Hand-written reading of the figures, below the marker, survives a refresh.
        if args.output.is_file() and NOTES_MARKER in (old := args.output.read_text(encoding="utf-8")):
            text += "\n" + old[old.index(NOTES_MARKER) :]
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
