"""Full A4 pages: HTML printed to PDF by Chromium, the first page rasterized by `pdftoppm`.

Body text is set at 10-12 pt, the sizes of real documents; at 150-300 dpi that is 21-50 px
per em, which a provider's resize can take below legibility.
"""

import random
from html import escape

from samplegen import texts

PAGE_CSS = """
@page { size: A4; margin: MARGIN; }
* { margin: 0; padding: 0; box-sizing: border-box; }
body { font: SIZE/1.4 FONT; color: #111; }
p { margin-bottom: 0.6em; text-align: justify; hyphens: auto; }
h1 { font-size: 1.9em; line-height: 1.2; margin-bottom: 0.3em; }
h2 { font-size: 1.2em; margin: 0.9em 0 0.4em; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0 1em; }
th, td { padding: 0.3em 0.5em; text-align: left; border-bottom: 0.5pt solid #999; }
td.n, th.n { text-align: right; }
"""
FOOTER_CSS = """
@page { @bottom-left { content: "LEFT"; font: 8.5pt FONT; color: #555; }
  @bottom-right { content: "RIGHT"; font: 8.5pt FONT; color: #555; } }
"""


def document(
    body: str, size: str, font: str, foot: tuple[str, str], css: str = "", margin: str = "20mm"
) -> str:
    """An A4 HTML document with `size` body text in `font` and a footer line (left, right)."""
    left, right = foot
    footer = FOOTER_CSS.replace("LEFT", left).replace("RIGHT", right)
    css = (PAGE_CSS + footer).replace("SIZE", size).replace("MARGIN", margin) + css
    css = css.replace("FONT", font)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<style>{css}</style></head><body>{body}</body></html>"
    )


def first(articles: dict[str, list[str]]) -> list[str]:
    return next(iter(articles.values()))


def paragraphs_html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


# --- committed pages ----------------------------------------------------------------------------

REPORT_CSS = """
.band { background: #1d4e89; color: #fff; padding: 6mm 8mm; margin-bottom: 6mm; }
.band h1 { color: #fff; } .band div { font-size: 0.95em; opacity: .9; }
h2 { color: #1d4e89; }
th { background: #e8eef7; color: #1d4e89; }
.callout { border-left: 3pt solid #d9822b; background: #fdf3e7; padding: 3mm 4mm; margin: 4mm 0; }
"""


def cost_review(rng: random.Random) -> str:
    """A colour business report: title band, prose, a cost table and a highlighted note."""
    rows = []
    for category in texts.REVIEW_CATEGORIES:
        volume = rng.randrange(4_000, 60_000, 500)
        now = rng.randint(150, 420) / 100
        new = now * rng.randint(45, 95) / 100
        rows.append(
            f"<tr><td>{category}</td><td class='n'>{volume:,}</td><td class='n'>${now:.2f}</td>"
            f"<td class='n'>${new:.2f}</td><td class='n'>{100 * (1 - new / now):.0f}%</td></tr>"
        )
    table = (
        "<table><tr><th>Category</th><th class='n'>Images a month</th>"
        "<th class='n'>Now, per 1,000</th><th class='n'>Recommended, per 1,000</th>"
        f"<th class='n'>Saving</th></tr>{''.join(rows)}</table>"
    )
    summary, callout, method, costs, caveats, next_steps = texts.REVIEW
    body = f"""
<div class='band'><h1>{escape(texts.REVIEW_TITLE)}</h1>
  <div>Internal review, third quarter. Prepared by the platform team.</div></div>
<h2>Summary</h2>{paragraphs_html([summary])}
<div class='callout'>{escape(callout)}</div>
<h2>Method</h2>{paragraphs_html([method])}
<h2>Costs per category</h2>{paragraphs_html([costs])}{table}
<h2>Caveats</h2>{paragraphs_html([caveats])}
<h2>Next steps</h2>{paragraphs_html([next_steps])}"""
    foot = ("Image encoding review", "Page 1 of 3")
    return document(body, "11pt", "'Liberation Sans', sans-serif", foot, REPORT_CSS)


PAPER_CSS = """
.title { text-align: center; margin-bottom: 6mm; }
.title h1 { font-size: 1.8em; } .title div { font-style: italic; }
.abstract { margin: 0 12mm 6mm; font-size: 0.95em; }
.columns { column-count: 2; column-gap: 8mm; }
"""


def two_column_paper() -> str:
    """A two-column article: François Pinard's explanation of heaps from `heapq.__about__`."""
    paragraphs = texts.doc_prose("heapq:__about__")
    body = f"""
<div class='title'><h1>Heap queues and tournaments</h1>
  <div>after the explanation by François Pinard in Python's heapq module</div></div>
<div class='abstract'><b>Abstract.</b> {escape(paragraphs[0])}</div>
<div class='columns'><h2>1. The heap invariant</h2>{paragraphs_html(paragraphs[1:4])}
  <h2>2. Sorting and scheduling</h2>{paragraphs_html(paragraphs[4:])}
  <h2>3. Notes</h2>{paragraphs_html(texts.REVIEW[:2])}</div>"""
    foot = ("Heap queues and tournaments", "1")
    return document(body, "10pt", "'Liberation Serif', serif", foot, PAPER_CSS, "18mm 16mm")


def licence_notices() -> str:
    """A page of third-party notices: the MIT and BSD-3-Clause licences, at 12 pt."""
    body = f"""
<h1>Third-party notices</h1>
<p>This product includes software developed by others. Their licences require that the
notices below accompany every copy of the product.</p>
<h2>MIT License</h2><p>Copyright (c) 2026 The toolkit developers</p>{paragraphs_html(texts.MIT)}
<h2>BSD 3-Clause License</h2><p>Copyright (c) 2026 The samples contributors. All rights
reserved.</p>{paragraphs_html(texts.BSD_3_CLAUSE)}"""
    return document(body, "12pt", "'DejaVu Serif', serif", ("Third-party notices", "Page 1"))


# --- held-out pages -----------------------------------------------------------------------------

INVOICE_CSS = """
.head { display: flex; justify-content: space-between; margin-bottom: 10mm; }
.head h1 { color: ACCENT; } th { background: ACCENT; color: #fff; }
.totals { width: 45%; margin-left: auto; } .terms { margin-top: 8mm; font-size: 0.92em; }
"""


def invoice(rng: random.Random, articles: dict[str, list[str]], size: str) -> str:
    """An invoice: addresses, a table of seeded line items, totals, and the first article's
    paragraphs as terms."""
    items, total = [], 0.0
    for _ in range(rng.randint(9, 14)):
        qty, price = rng.randint(1, 12), rng.randint(500, 90_000) / 100
        total += qty * price
        items.append(
            f"<tr><td>{rng.choice(texts.TABLE_PRODUCTS)}, "
            f"{rng.choice(texts.HELD_OUT_WORDS)} edition</td><td class='n'>{qty}</td>"
            f"<td class='n'>{price:,.2f}</td><td class='n'>{qty * price:,.2f}</td></tr>"
        )
    tax = total * 0.19
    number = rng.randint(10_000, 99_999)
    date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    body = f"""
<div class='head'><div><h1>Invoice</h1>No. {number}<br>Date: {date}<br>Due within 30 days</div>
<div>Example Supplies Ltd.<br>12 Harbour Road<br>Port Town, PT4 9ZZ<br>VAT ID EX123456789</div>
</div>
<p><b>Bill to:</b> Customer {rng.randint(1000, 9999)}, 7 Station Street, Rivertown</p>
<table><tr><th>Description</th><th class='n'>Qty</th><th class='n'>Unit price</th>
<th class='n'>Amount</th></tr>{"".join(items)}</table>
<table class='totals'><tr><td>Subtotal</td><td class='n'>{total:,.2f}</td></tr>
<tr><td>VAT 19%</td><td class='n'>{tax:,.2f}</td></tr>
<tr><td><b>Total due</b></td><td class='n'><b>{total + tax:,.2f}</b></td></tr></table>
<div class='terms'><h2>Terms and notes</h2>{paragraphs_html(first(articles)[:3])}</div>"""
    css = INVOICE_CSS.replace("ACCENT", rng.choice(("#8a3ffc", "#0f766e", "#b45309")))
    return document(body, size, "'Open Sans', sans-serif", (f"Invoice {number}", "1/1"), css)


NEWSLETTER_CSS = """
.mast { border-bottom: 2pt solid #111; border-top: 2pt solid #111; text-align: center;
  padding: 2mm 0; margin-bottom: 5mm; } .mast h1 { font-size: 2.6em; letter-spacing: .04em; }
.columns { column-count: 3; column-gap: 6mm; column-rule: 0.5pt solid #999; }
h2 { break-after: avoid; } p { text-align: left; }
"""


def newsletter(rng: random.Random, articles: dict[str, list[str]], size: str) -> str:
    """A three-column newsletter with a masthead, one article per documentation source."""
    columns = "".join(
        f"<h2>{escape(title)}</h2>{paragraphs_html(paragraphs)}"
        for title, paragraphs in articles.items()
    )
    issue = rng.randint(10, 99)
    body = f"""
<div class='mast'><h1>The Library Bulletin</h1>Issue {issue}: notes from the documentation</div>
<div class='columns'>{columns}</div>"""
    foot = (f"The Library Bulletin, issue {issue}", "1")
    return document(body, size, "'DejaVu Serif', serif", foot, NEWSLETTER_CSS, "15mm 14mm")


def memo(rng: random.Random, articles: dict[str, list[str]], size: str) -> str:
    """A memo: header fields, numbered points and prose from the first article."""
    paragraphs = first(articles)
    points = "".join(f"<li>{escape(s)}</li>" for s in texts.sentences(paragraphs)[:5])
    body = f"""
<h1>Memorandum</h1>
<table><tr><td><b>To</b></td><td>All maintainers</td></tr>
<tr><td><b>From</b></td><td>Documentation group</td></tr>
<tr><td><b>Date</b></td><td>2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}</td></tr>
<tr><td><b>Subject</b></td><td>Reading notes, part {rng.randint(2, 9)}</td></tr></table>
<h2>Key points</h2><ol style='margin-left: 6mm'>{points}</ol>
<h2>Discussion</h2>{paragraphs_html(paragraphs)}"""
    return document(body, size, "'Liberation Sans', sans-serif", ("Memorandum", "Page 1"))
