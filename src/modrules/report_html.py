"""An evaluation report as one self-contained HTML page: inline CSS and SVG, no script, no network.

Every piece of comment text goes through `html.escape`, and the page's Content-Security-Policy
forbids scripts and remote loads, so hostile comment text cannot run or phone home.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from modrules.evaluation import CLEAN, CategoryScore, Example, Highlight, Report
from modrules.model import CATEGORIES

BAR_COLOURS = {"precision": "#3b6fb6", "recall": "#e08a2c", "F1": "#2f9e6b"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:#5b6475;margin-bottom:18px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002;min-width:150px}
.card b{display:block;font-size:24px}.card span{color:#5b6475;font-size:12px}
.good b{color:#2f9e6b}.warn b{color:#c0392b}
section{background:#fff;border-radius:8px;padding:16px 20px;box-shadow:0 1px 2px #0002;margin-top:16px}
table{border-collapse:collapse;width:100%}th,td{padding:5px 8px;border-bottom:1px solid #e6e8ec;text-align:left}
th{font-size:12px;color:#5b6475;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
.meter{display:inline-block;height:8px;border-radius:4px;background:#2f9e6b;vertical-align:middle;margin-right:6px}
.ex{border-left:4px solid #c0392b;padding:8px 12px;margin:10px 0;background:#fbfbfc}
.ex.fn{border-color:#e08a2c}
.ex p{margin:6px 0;white-space:pre-wrap;word-break:break-word}
.meta{font-size:12px;color:#5b6475}
.chip{display:inline-block;border-radius:10px;padding:0 8px;margin:0 3px 0 0;font-size:12px;background:#eef0f4}
.chip.label{background:#fde7d6}.chip.pred{background:#dde8f7}
.act{font-weight:600;text-transform:uppercase;font-size:11px;padding:1px 6px;border-radius:4px;color:#fff;background:#7f8c8d}
.act.delete{background:#c0392b}.act.hold{background:#8e44ad}.act.edit{background:#16a085}.act.flag{background:#d68910}
.act.publish{background:#2f9e6b}
mark{background:#ffe08a;border-bottom:2px solid #c0392b;padding:0 1px}
.legend span{margin-right:14px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
svg text{font-family:inherit}
"""


def render_html(report: Report, title: str = "modrules evaluation") -> str:
    """The whole page for one evaluation report."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{escape(title)}</h1>",
        f'<div class="sub">{report.comments} comments ({report.violating} violating, {report.clean} clean) · generated {generated}</div>',
        _cards(report),
        '<section><h2>Per category: precision, recall, F1</h2>',
        _legend(),
        category_bars(report.categories),
        "</section>",
        '<section><h2>Confusion: what people labeled (rows) vs what the rules decided (columns)</h2>',
        '<div class="meta">Each row is shaded by its share of the row; green on the diagonal (agreement), red off it.</div>',
        confusion_heatmap(report.confusion),
        "</section>",
        _rules_table(report),
        _examples("Worst false positives (the rules acted, people did not label it so)", report.false_positives, "fp"),
        _examples("Worst false negatives (labeled, but the rules missed the category)", report.false_negatives, "fn"),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _cards(report: Report) -> str:
    cards = [
        ("macro-F1", f"{report.macro_f1:.3f}", ""),
        ("micro-F1", f"{report.micro_f1:.3f}", ""),
        ("clean comments not published", f"{report.clean_not_published:.1%}", "warn" if report.clean_not_published > 0.05 else "good"),
        ("violating comments published untouched", f"{report.violating_published:.1%}", "warn" if report.violating_published > 0.2 else "good"),
    ]
    body = "".join(f'<div class="card {cls}"><b>{value}</b><span>{escape(name)}</span></div>' for name, value, cls in cards)
    return f'<div class="cards">{body}</div>'


def _legend() -> str:
    items = "".join(f'<span><i style="background:{c}"></i>{escape(n)}</span>' for n, c in BAR_COLOURS.items())
    return f'<div class="legend">{items}</div>'


def category_bars(categories: Sequence[CategoryScore]) -> str:
    """Grouped horizontal bars, one group per category, as an inline SVG."""
    label_w, bar_w, bar_h, gap = 190, 560, 9, 10
    group_h = 3 * bar_h + gap
    height = max(1, len(categories)) * group_h + 24
    out = [
        (f'<svg class="chart bars" role="img" aria-label="precision, recall and F1 per category" '
        f'xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 120}" height="{height}">')
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * bar_w
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 18}" stroke="#e6e8ec"/>')
        out.append(f'<text x="{x:.1f}" y="{height - 4}" font-size="10" text-anchor="middle" fill="#5b6475">{tick:.2f}</text>')
    for i, c in enumerate(categories):
        y = i * group_h
        out.append(
            f'<text x="{label_w - 8}" y="{y + 1.5 * bar_h + 4}" font-size="12" text-anchor="end">{escape(c.category)}'
            f'<title>support {c.support}, predicted {c.predicted}</title></text>'
        )
        for j, (name, value) in enumerate((("precision", c.precision), ("recall", c.recall), ("F1", c.f1))):
            by = y + j * bar_h
            width = max(value * bar_w, 0.5)
            out.append(
                f'<rect x="{label_w}" y="{by}" width="{width:.1f}" height="{bar_h - 1}" fill="{BAR_COLOURS[name]}">'
                f"<title>{escape(c.category)} {name} {value:.2f}</title></rect>"
            )
            out.append(f'<text x="{label_w + width + 4:.1f}" y="{by + bar_h - 1}" font-size="9" fill="#5b6475">{value:.2f}</text>')
        out.append(f'<text x="{label_w + bar_w + 40}" y="{y + 1.5 * bar_h + 4}" font-size="10" fill="#5b6475">n={c.support}</text>')
    out.append("</svg>")
    return "".join(out)


def confusion_heatmap(confusion: dict[str, dict[str, int]]) -> str:
    """Labels x predicted categories as a shaded grid, an inline SVG."""
    # One axis for both sides, clause order and clean last, so agreement is the diagonal.
    order = {c: i for i, c in enumerate((*CATEGORIES, CLEAN))}
    seen = set(confusion) | {c for row in confusion.values() for c in row}
    rows = columns = sorted(seen, key=lambda c: order.get(c, len(order)))
    cell, label_w, head_h = 30, 170, 130
    width, height = label_w + cell * max(1, len(columns)) + 10, head_h + cell * max(1, len(rows)) + 10
    out = [
        (f'<svg class="chart confusion" role="img" aria-label="confusion matrix" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">')
    ]
    for j, column in enumerate(columns):
        x = label_w + j * cell + cell / 2
        out.append(
            f'<text transform="translate({x:.1f},{head_h - 6}) rotate(-55)" font-size="11">{escape(column)}</text>'
        )
    for i, row in enumerate(rows):
        y = head_h + i * cell
        counts = confusion.get(row, {})
        total = sum(counts.values()) or 1
        out.append(f'<text x="{label_w - 6}" y="{y + cell / 2 + 4}" font-size="11" text-anchor="end">{escape(row)}</text>')
        for j, column in enumerate(columns):
            n = counts.get(column, 0)
            share = n / total
            colour = _shade(share, agree=row == column)
            x = label_w + j * cell
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" rx="3" fill="{colour}">'
                f"<title>labeled {escape(row)}, decided {escape(column)}: {n} ({share:.0%} of the row)</title></rect>"
            )
            if n:
                ink = "#fff" if share > 0.55 else "#1d2330"
                out.append(
                    f'<text x="{x + (cell - 2) / 2}" y="{y + cell / 2 + 3}" font-size="10" text-anchor="middle" fill="{ink}">{n}</text>'
                )
    out.append("</svg>")
    return "".join(out)


def _shade(share: float, agree: bool) -> str:
    if share == 0:
        return "#f1f2f5"
    base = (47, 158, 107) if agree else (192, 57, 43)
    t = 0.15 + 0.85 * share  # a faint tint even for one comment, so it is seen
    r, g, b = (round(255 - (255 - c) * t) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def _rules_table(report: Report) -> str:
    rows = []
    for r in report.rules:
        meter = f'<span class="meter" style="width:{r.precision * 80:.0f}px"></span>'
        shadow = ' <span class="chip">shadow</span>' if r.shadow else ""
        rows.append(
            f"<tr><td>{escape(r.rule)}{shadow}</td><td>{escape(r.category)}</td><td class=\"n\">{r.hits}</td>"
            f'<td class="n">{r.correct}</td><td>{meter}{r.precision:.2f}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="5">no rule fired</td></tr>')
    return (
        "<section><h2>Per rule</h2><table><thead><tr><th>rule</th><th>category</th><th>hits</th>"
        "<th>on comments labeled with its category</th><th>precision</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _examples(heading: str, examples: Sequence[Example], kind: str) -> str:
    if not examples:
        return f"<section><h2>{escape(heading)}</h2><p>None.</p></section>"
    items = []
    for e in examples:
        labels = "".join(f'<span class="chip label">{escape(c)}</span>' for c in e.labels) or '<span class="chip">clean</span>'
        predicted = "".join(f'<span class="chip pred">{escape(c)}</span>' for c in e.predicted) or '<span class="chip">none</span>'
        evidence = "; ".join(e.evidence[:4])
        items.append(
            f'<div class="ex {kind}"><div class="meta"><span class="act {escape(e.action.value)}">{escape(e.action.value)}</span> '
            f"{escape(e.comment_id)} · labeled {labels} · decided {predicted}</div>"
            f"<p>{highlight(e.text, e.highlights)}</p>"
            + (f'<div class="meta">evidence: {escape(evidence)}</div>' if evidence else "")
            + "</div>"
        )
    return f"<section><h2>{escape(heading)}</h2>{''.join(items)}</section>"


def highlight(text: str, spans: Iterable[Highlight]) -> str:
    """The text, escaped, with each evidence span wrapped in <mark> (overlaps merged)."""
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out = []
    for start, end in itertools.pairwise(cuts):
        piece = escape(text[start:end])
        rules = sorted({s.rule for s in spans if s.start <= start and end <= s.end})
        out.append(f'<mark title="{escape(", ".join(rules))}">{piece}</mark>' if rules else piece)
    return "".join(out)
