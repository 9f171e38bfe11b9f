"""Which rules cost the most: mean microseconds per comment for each rule of a ruleset.

    python benchmarks/rule_costs.py CORPUS.jsonl[.gz] [--rules DIR] [--limit 5000] [--top 25]

Text views and shared signals are computed before timing, so each figure is the rule's
own cost (its condition tree, the confirming regexes it runs, its lexicon passes).
"""

from __future__ import annotations

import argparse
import time

from modrules import Moderator
from modrules.dumps import read_comments
from modrules.model import Comment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--rules", default=None)
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    moderator = Moderator.from_path(args.rules)
    comments: list[Comment] = []
    for record in read_comments([args.corpus]):
        if isinstance(record, Comment):
            comments.append(record)
        if len(comments) >= args.limit:
            break
    docs = [moderator.document(c) for c in comments]
    for doc in docs:  # warm the shared views so each rule is charged only for itself
        doc.views.normalized, doc.views.skeleton, doc.views.words, doc.views.sentences
    costs: dict[str, float] = {}
    for rule in moderator.ruleset.rules:
        started = time.perf_counter()
        for doc in docs:
            rule.condition.evaluate(doc)
        costs[rule.id] = (time.perf_counter() - started) / len(docs) * 1e6
    total = sum(costs.values())
    print(f"{len(docs)} comments, {len(costs)} rules, {total:.1f} µs per comment in rules")
    for rule_id, cost in sorted(costs.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{cost:9.1f} µs  {rule_id}")


if __name__ == "__main__":
    main()
