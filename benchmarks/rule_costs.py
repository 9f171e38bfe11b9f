"""Where the time goes: mean microseconds per comment for the text views, the prefilter
scan and each rule of a ruleset (ML checkers off).

    python benchmarks/rule_costs.py CORPUS.jsonl[.gz] [--rules DIR] [--limit 5000] [--top 25]

Each stage is timed on its own over the same comments, in the order the engine runs
them: views first, then the prefilter scan (warmed up first: RE2 builds its automaton
lazily), then each rule as the engine runs it (skipped when its gate is closed; with
`--no-gates`, every rule evaluated in full), so each figure is that stage's own cost (CPU time of this process).
"""

from __future__ import annotations

import argparse
import time

from modrules import Moderator
from modrules.checkers.base import Document
from modrules.dumps import read_comments
from modrules.model import Comment
from modrules.rules import load_ruleset


def _timed(docs: list[Document], work: object) -> float:
    # CPU time: on a shared machine, wall time also counts the other jobs.
    started = time.process_time()
    for doc in docs:
        work(doc)  # type: ignore[operator]
    return (time.process_time() - started) / len(docs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus")
    parser.add_argument("--rules", default=None)
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-gates", action="store_true", help="evaluate every rule in full")
    args = parser.parse_args()

    moderator = Moderator(load_ruleset(args.rules, disable_ml=True))
    moderator.set_prefilter(not args.no_gates)
    comments: list[Comment] = []
    for record in read_comments([args.corpus]):
        if isinstance(record, Comment):
            comments.append(record)
        if len(comments) >= args.limit:
            break
    warm = [moderator.document(c) for c in comments]
    for doc in warm:  # RE2 builds its DFA states on first sight of them
        moderator._possible(doc)
    docs = [moderator.document(c) for c in comments]
    stages = {
        "view: normalized": _timed(docs, lambda d: d.views.normalized),
        "view: skeleton": _timed(docs, lambda d: d.views.skeleton),
        "view: words": _timed(docs, lambda d: d.views.words),
        "prefilter scan (all views)": _timed(docs, moderator._possible),
    }
    costs: dict[str, float] = {}
    for rule, gate in moderator._plan:

        def run(doc: Document, rule=rule, gate=gate) -> None:  # type: ignore[no-untyped-def]
            if gate is None or args.no_gates or not gate.isdisjoint(moderator._possible(doc)):
                rule.condition.evaluate(doc)

        costs[rule.id] = _timed(docs, run)
    total = sum(costs.values())
    for name, cost in stages.items():
        print(f"{cost:9.1f} µs  {name}")
    print(f"{len(docs)} comments, {len(costs)} rules, {total:.1f} µs per comment in rules")
    for rule_id, cost in sorted(costs.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{cost:9.1f} µs  {rule_id}")


if __name__ == "__main__":
    main()
