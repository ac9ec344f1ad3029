"""Screenshots of desktop UIs, rendered from HTML by headless Chromium at 1x and 2x.

Every UI uses 10-13 CSS px text, the sizes desktop apps use, so that a downscaled copy shows
where text stops being legible. Fonts are Debian's (licences in data/SOURCES.md).
"""

import random
from html import escape

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from samplegen import texts

UI_FONT = "'Inter', 'DejaVu Sans', sans-serif"
MONO_FONT = "'JetBrains Mono', 'DejaVu Sans Mono', monospace"
BASE_CSS = """
* { box-sizing: border-box; margin: 0; padding: 0; }
html, body { width: 100%; height: 100%; overflow: hidden; }
body { display: flex; flex-direction: column; font-family: FONT; }
.row { display: flex; } .col { display: flex; flex-direction: column; }
.grow { flex: 1; min-width: 0; min-height: 0; }
.muted { color: #5f6368; }
"""


def page(css: str, body: str, font: str = UI_FONT) -> str:
    """A complete HTML document: the shared reset, then the screen's own CSS."""
    style = BASE_CSS.replace("FONT", font) + css
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head>"
        f"<body>{body}</body></html>"
    )


def highlighted(lines: list[str], style: str = "default") -> list[str]:
    """Python source lines as HTML lines with Pygments' inline colours."""
    formatter = HtmlFormatter(nowrap=True, noclasses=True, style=style)
    return highlight("\n".join(lines), PythonLexer(), formatter).splitlines()


# --- committed screens --------------------------------------------------------------------------

EDITOR_CSS = """
body { background: #f3f3f3; color: #333; font-size: 12px; }
.title { height: 30px; background: #dddddd; align-items: center; justify-content: center; }
.activity { width: 48px; background: #2c2c2c; }
.activity div { width: 24px; height: 24px; margin: 12px; border: 2px solid #858585;
  border-radius: 4px; }
.sidebar { width: 280px; background: #f3f3f3; border-right: 1px solid #ddd; padding: 8px 0; }
.sidebar h2 { font-size: 11px; font-weight: 600; padding: 4px 20px 8px; letter-spacing: .04em; }
.sidebar div { font-size: 13px; line-height: 22px; white-space: nowrap; }
.sidebar .on { background: #e4e6f1; }
.tabs { height: 35px; background: #ececec; }
.tabs div { font-size: 13px; padding: 9px 18px; border-right: 1px solid #ddd; color: #6f6f6f; }
.tabs .on { background: #fff; color: #333; }
.crumbs { height: 22px; background: #fff; padding: 3px 18px; color: #616161; }
.panes { min-height: 0; }
.pane { background: #fff; border-right: 1px solid #e5e5e5; overflow: hidden; }
.code { font: 13px/19px MONO; white-space: pre; }
.code span.n { display: inline-block; width: 52px; padding-right: 18px; text-align: right;
  color: #8a8a8a; }
.code .cur { background: #f0f4fa; }
.panel { height: 230px; flex-shrink: 0; background: #fff; border-top: 1px solid #ddd; }
.panel .heads div { font-size: 11px; padding: 8px 12px; letter-spacing: .03em; color: #6f6f6f; }
.panel .heads .on { color: #333; border-bottom: 1px solid #333; }
.panel pre { font: 12px/18px MONO; padding: 4px 14px; }
.status { height: 22px; background: #007acc; color: #fff; align-items: center; padding: 0 10px;
  gap: 22px; }
"""


def _editor_pane(lines: list[str], first: int, cursor: int) -> str:
    rows = [
        f"<div class='{'cur' if n == cursor else ''}'><span class='n'>{n}</span>{line}</div>"
        for n, line in enumerate(lines, start=first)
    ]
    return f"<div class='pane grow code'>{''.join(rows)}</div>"


def code_editor() -> str:
    """A VS Code-like editor, two panes of standard-library source, explorer and terminal."""
    tree = [
        ("v toolkit", 0),
        ("v scripts", 1),
        ("v samplegen", 2),
        ("__init__.py", 3),
        ("charts.py", 3),
        ("pages.py", 3),
        ("render.py", 3),
        ("screens.py", 3),
        ("texts.py", 3),
        ("make_clip.py", 2),
        ("make_samples.py", 2),
        ("v vendor", 1),
        ("shlex.py", 2),
        ("textwrap.py", 2),
        ("> tests", 1),
        ("> data", 1),
        ("pyproject.toml", 1),
        ("README.md", 1),
    ]
    sidebar = "".join(
        f"<div class='{'on' if name == 'textwrap.py' else ''}' "
        f"style='padding-left:{20 + 14 * depth}px'>{name}</div>"
        for name, depth in tree
    )
    left_first, left = texts.source_lines("textwrap", "class TextWrapper", 66)
    right_first, right = texts.source_lines("shlex", "class shlex", 66)
    terminal = (
        "$ python -m pytest tests/test_wrap.py -q\n"
        "........................................                         [100%]\n"
        "40 passed in 0.84s\n"
        "$ python -m ruff check scripts\n"
        "All checks passed!\n$ "
    )
    body = f"""
<div class='row title'>textwrap.py - toolkit - Editor</div>
<div class='row grow'>
  <div class='activity'><div></div><div></div><div></div><div></div></div>
  <div class='sidebar'><h2>EXPLORER</h2>{sidebar}</div>
  <div class='col grow'>
    <div class='row tabs'><div class='on'>textwrap.py</div><div>shlex.py</div>
      <div>render.py</div></div>
    <div class='crumbs'>vendor &gt; textwrap.py &gt; TextWrapper &gt; __init__</div>
    <div class='row grow panes'>{_editor_pane(highlighted(left), left_first, left_first + 15)}
      {_editor_pane(highlighted(right), right_first, right_first + 11)}</div>
    <div class='panel col'>
      <div class='row heads'><div>PROBLEMS</div><div>OUTPUT</div><div>DEBUG CONSOLE</div>
        <div class='on'>TERMINAL</div></div>
      <pre>{escape(terminal)}</pre>
    </div>
  </div>
</div>
<div class='row status'><span>main</span><span>0 errors, 0 warnings</span>
  <span class='grow'></span><span>Ln {left_first + 15}, Col 17</span><span>Spaces: 4</span>
  <span>UTF-8</span><span>LF</span><span>Python 3.11</span></div>"""
    return page(EDITOR_CSS.replace("MONO", MONO_FONT), body)


TERMINAL_CSS = """
body { background: #2b2b2b; color: #d0d0d0; }
.bar { height: 38px; background: #353535; align-items: center; padding: 0 12px; gap: 8px;
  font-size: 13px; color: #e8e8e8; }
.bar div { padding: 6px 16px; border-radius: 6px; }
.bar .on { background: #4a4a4a; }
pre { font: 12px/16px MONO; padding: 6px 8px; background: #1e1e1e; flex: 1; }
.p { color: #8ae234; } .d { color: #729fcf; }
"""


def terminal(rng: random.Random) -> str:
    """A GNOME Terminal-like window: the Zen of Python, a git log and a long listing."""
    prompt = "<span class='p'>dev@workstation</span>:<span class='d'>~/toolkit</span>$ "
    lines = [prompt + 'python3 -c "import this"', *map(escape, texts.zen())]
    lines.append(prompt + "git log --oneline -6")
    lines += [f"{rng.getrandbits(28):07x} {message}" for message in texts.TERMINAL_LOG]
    files = (
        "bar_grouped.png",
        "line_annotated.png",
        "pie_imagemagick.png",
        "ransac_skimage.png",
        "scatter_legend.png",
    )
    sizes = [rng.randrange(30_000, 260_000) for _ in files]
    lines += [prompt + "ls -l data/samples/chart", f"total {sum(sizes) // 1024}"]
    lines += [
        f"-rw-r--r-- 1 dev dev {size:>7} Nov 30 12:15 {name}"
        for name, size in zip(files, sizes, strict=True)
    ]
    lines += [
        prompt + "python3 -m pytest -q tests/test_tokens.py",
        "." * 58 + " " * 14 + "[100%]",
        "58 passed in 1.92s",
        prompt,
    ]
    body = f"""
<div class='row bar'><div class='on'>dev@workstation: ~/toolkit</div>
  <div>dev@workstation: ~/notes</div></div>
<pre>{chr(10).join(lines)}</pre>"""
    return page(TERMINAL_CSS.replace("MONO", "'DejaVu Sans Mono', monospace"), body)


TABLE_CSS = """
body { background: #f6f7f9; color: #1f2328; font-size: 12px; }
.nav { width: 220px; background: #1f2937; color: #d1d5db; padding: 16px 0; }
.nav b { display: block; color: #fff; font-size: 15px; padding: 0 20px 18px; }
.nav div { padding: 8px 20px; font-size: 12px; } .nav .on { background: #374151; color: #fff; }
.top { height: 52px; background: #fff; border-bottom: 1px solid #e5e7eb; align-items: center;
  padding: 0 24px; gap: 16px; }
.search { width: 360px; border: 1px solid #d1d5db; border-radius: 6px; padding: 6px 10px;
  color: #6b7280; }
main { padding: 18px 24px; overflow: hidden; }
h1 { font-size: 18px; font-weight: 600; margin-bottom: 10px; }
.chips { gap: 8px; margin-bottom: 12px; }
.chips span { font-size: 11px; border: 1px solid #d1d5db; border-radius: 12px; padding: 3px 10px;
  background: #fff; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 11px; }
th { text-align: left; font-weight: 600; background: #f3f4f6; padding: 6px 10px;
  border-bottom: 1px solid #e5e7eb; color: #374151; }
td { padding: 4px 10px; border-bottom: 1px solid #f0f1f3; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { font-size: 10px; padding: 1px 7px; border-radius: 9px; background: #e0e7ff;
  color: #3730a3; }
.foot { justify-content: space-between; padding: 10px 2px; font-size: 11px; color: #4b5563; }
"""


def data_table(rng: random.Random, rows: int = 40) -> str:
    """An admin panel's orders table: 40 rows of seeded numbers, nav, filters, pagination."""
    head = (
        "Order",
        "Date",
        "Customer",
        "Region",
        "Product",
        "Qty",
        "Unit price",
        "Total",
        "Status",
    )
    numeric = {"Qty", "Unit price", "Total"}
    cells = []
    for i in range(rows):
        qty, price = rng.randint(1, 40), rng.randint(300, 25_000) / 100
        cells.append(
            (
                f"#{10_482 + i * 7}",
                f"2026-{rng.randint(7, 9):02d}-{rng.randint(1, 28):02d}",
                f"Customer {rng.randint(1000, 9999)}",
                rng.choice(texts.TABLE_REGIONS),
                rng.choice(texts.TABLE_PRODUCTS),
                str(qty),
                f"${price:,.2f}",
                f"${qty * price:,.2f}",
                f"<span class='badge'>{rng.choice(texts.TABLE_STATUSES)}</span>",
            )
        )
    th = "".join(f"<th class='{'num' if h in numeric else ''}'>{h}</th>" for h in head)
    trs = "".join(
        "<tr>"
        + "".join(
            f"<td class='{'num' if h in numeric else ''}'>{c}</td>"
            for h, c in zip(head, row, strict=True)
        )
        + "</tr>"
        for row in cells
    )
    nav = "".join(
        f"<div class='{'on' if item == 'Orders' else ''}'>{item}</div>"
        for item in (
            "Overview",
            "Orders",
            "Products",
            "Customers",
            "Invoices",
            "Shipping",
            "Returns",
            "Reports",
            "Settings",
        )
    )
    body = f"""
<div class='row grow'>
  <div class='nav'><b>Storefront admin</b>{nav}</div>
  <div class='col grow'>
    <div class='row top'><div class='search'>Search orders, customers, products</div>
      <span class='grow'></span><span>Export CSV</span><span>Help</span></div>
    <main class='col grow'>
      <h1>Orders</h1>
      <div class='row chips'><span>Status: any</span><span>Region: all</span>
        <span>Date: last 90 days</span><span>Total: over $0.00</span></div>
      <table><tr>{th}</tr>{trs}</table>
      <div class='row foot'><span>Showing 1-{rows} of 1,204 orders</span>
        <span>Rows per page: {rows} &nbsp; Page 1 of 31 &nbsp; Previous &nbsp; Next</span></div>
    </main>
  </div>
</div>"""
    return page(TABLE_CSS, body)


SETTINGS_CSS = """
body { background: #fff; color: #202124; font-size: 13px; }
.head { height: 48px; border-bottom: 1px solid #dadce0; align-items: center; padding: 0 20px;
  font-size: 15px; font-weight: 600; }
.menu { width: 230px; padding: 12px 0; border-right: 1px solid #dadce0; }
.menu div { padding: 8px 22px; } .menu .on { background: #e8f0fe; color: #1967d2;
  border-radius: 0 16px 16px 0; }
.form { padding: 18px 40px; overflow: hidden; }
h2 { font-size: 14px; font-weight: 600; margin: 10px 0 6px; }
.field { align-items: center; border-bottom: 1px solid #eee; padding: 8px 0; gap: 24px; }
.field label { font-weight: 500; } .field p { font-size: 11px; color: #5f6368; margin-top: 2px; }
.ctl { width: 260px; border: 1px solid #dadce0; border-radius: 4px; padding: 5px 8px; }
.arrow { color: #5f6368; }
.toggle { width: 34px; height: 18px; border-radius: 9px; background: #1a73e8; padding: 2px; }
.toggle i { display: block; width: 14px; height: 14px; border-radius: 7px; background: #fff;
  margin-left: 16px; }
.toggle.off { background: #bdc1c6; } .toggle.off i { margin-left: 0; }
.buttons { gap: 12px; justify-content: flex-end; padding: 14px 0; }
.buttons span { padding: 6px 16px; border-radius: 4px; border: 1px solid #dadce0; }
.buttons .primary { background: #1a73e8; color: #fff; border-color: #1a73e8; }
"""


def _control(kind: str, value: str) -> str:
    if kind == "toggle":
        return f"<div class='toggle {value}'><i></i></div>"
    arrow = "<span class='arrow'>&#9662;</span>" if kind == "select" else ""
    return f"<div class='row ctl'><span class='grow'>{value}</span>{arrow}</div>"


def settings_form() -> str:
    """A settings page: sections of labelled fields with help text and controls."""
    fields = []
    for section, entries in texts.SETTINGS.items():
        fields.append(f"<h2>{section}</h2>")
        for label, help_text, kind, value in entries:
            fields.append(
                f"<div class='row field'><div class='grow'><label>{label}</label>"
                f"<p>{help_text}</p></div>{_control(kind, value)}</div>"
            )
    menu = "".join(
        f"<div class='{'on' if item == 'Image requests' else ''}'>{item}</div>"
        for item in (
            "Account",
            "Image requests",
            "Notifications",
            "Billing",
            "API keys",
            "Team members",
            "Privacy",
            "Advanced",
        )
    )
    body = f"""
<div class='row head'>Settings</div>
<div class='row grow'><div class='menu'>{menu}</div>
  <div class='col grow form'>{"".join(fields)}
    <div class='row buttons'><span>Cancel</span><span class='primary'>Save changes</span></div>
  </div></div>"""
    return page(SETTINGS_CSS, body)


# --- held-out screens: other layouts, fonts and text than the committed ones --------------------

HELD_OUT_FONT = "'Open Sans', 'Liberation Sans', sans-serif"
HELD_OUT_MONO = "'Liberation Mono', 'DejaVu Sans Mono', monospace"
SENDERS = (
    "Build server",
    "Docs team",
    "Release desk",
    "Finance",
    "Support queue",
    "Design review",
    "Security notices",
    "Data platform",
    "Office",
    "Infrastructure",
)

MAIL_CSS = """
body { font-size: PXpx; color: #222; background: #fff; }
.top { height: 48px; background: #0b57d0; color: #fff; align-items: center; padding: 0 16px;
  gap: 24px; font-weight: 600; }
.top .search { flex: 0 0 480px; background: #fff3; border-radius: 6px; padding: 6px 12px;
  font-weight: 400; }
.folders { width: 190px; padding: 10px 0; background: #f6f8fc; }
.folders div { padding: 6px 18px; } .folders .on { background: #d3e3fd; font-weight: 600; }
.list { width: 430px; border-right: 1px solid #e0e0e0; overflow: hidden; }
.msg { padding: 7px 14px; border-bottom: 1px solid #eee; }
.msg .who { font-weight: 600; } .msg .when { color: #666; }
.msg p { color: #555; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.msg.on { background: #e8f0fe; }
.read { padding: 18px 28px; overflow: hidden; }
.read h2 { font-size: 17px; margin-bottom: 8px; } .read .meta { color: #666; margin-bottom: 14px; }
.read p { line-height: 1.5; margin-bottom: 10px; max-width: 900px; }
"""


def mail_client(rng: random.Random, paragraphs: list[str], px: int) -> str:
    """A three-pane mail client: folders, a message list and the open message."""
    lines = texts.sentences(paragraphs)
    messages = []
    for i in range(22):
        words = lines[i % len(lines)].split()
        subject, snippet = " ".join(words[:7]), " ".join(words[7:])
        when = (
            f"{rng.randint(7, 18)}:{rng.randint(0, 59):02d}"
            if i < 6
            else f"Oct {rng.randint(1, 28)}"
        )
        messages.append(
            f"<div class='msg {'on' if i == 1 else ''}'><div class='row'>"
            f"<span class='who grow'>{rng.choice(SENDERS)}</span><span class='when'>{when}</span>"
            f"</div><div>{escape(subject)}</div><p>{escape(snippet)}</p></div>"
        )
    folders = "".join(
        f"<div class='{'on' if name.startswith('Inbox') else ''}'>{name}</div>"
        for name in (
            f"Inbox ({rng.randint(3, 40)})",
            "Starred",
            "Snoozed",
            "Sent",
            "Drafts",
            "Archive",
            "Spam",
            "Trash",
            "Labels",
            "Projects",
            "Receipts",
            "Travel",
        )
    )
    body_text = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    subject = " ".join(lines[1].split()[:7])
    body = f"""
<div class='row top'><span>Mail</span><span class='search'>Search mail</span></div>
<div class='row grow'><div class='folders'>{folders}</div>
  <div class='list'>{"".join(messages)}</div>
  <div class='read grow'><h2>{escape(subject)}</h2>
    <div class='meta'>From: {SENDERS[rng.randrange(len(SENDERS))]} &lt;notices@example.org&gt;
      &nbsp; To: me &nbsp; {rng.randint(8, 17)}:{rng.randint(0, 59):02d}</div>{body_text}</div>
</div>"""
    return page(MAIL_CSS.replace("PX", str(px)), body, HELD_OUT_FONT)


DASHBOARD_CSS = """
body { font-size: PXpx; background: #f4f5f7; color: #172b4d; }
.head { height: 50px; background: #fff; align-items: center; padding: 0 22px; gap: 18px;
  border-bottom: 1px solid #dfe1e6; } .head b { font-size: 16px; }
main { padding: 16px 22px; gap: 14px; overflow: hidden; }
.cards { gap: 14px; } .card { background: #fff; border: 1px solid #dfe1e6; border-radius: 6px;
  padding: 12px 14px; }
.kpi b { display: block; font-size: 24px; margin: 4px 0; } .up { color: #216e4e; }
.down { color: #ae2a19; }
h3 { font-size: 13px; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 4px 6px; border-bottom: 1px solid #ebecf0; }
td.n, th.n { text-align: right; }
.feed div { padding: 5px 0; border-bottom: 1px solid #ebecf0; }
svg text { font-size: PXpx; fill: #44546f; }
"""


def _bar_svg(rng: random.Random, labels: list[str], width: int, px: int) -> str:
    height, left, bottom = 220, 44, 22
    values = [rng.randint(120, 980) for _ in labels]
    step = (width - left) / len(labels)
    bars, ticks = [], []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = value / 1000 * (height - bottom - 10)
        x = left + i * step
        bars.append(
            f"<rect x='{x + step * 0.2:.1f}' y='{height - bottom - bar:.1f}' "
            f"width='{step * 0.6:.1f}' height='{bar:.1f}' fill='#579dff'/>"
        )
        bars.append(
            f"<text x='{x + step / 2:.1f}' y='{height - 6}' text-anchor='middle'>{label}</text>"
        )
    for tick in range(0, 1001, 250):
        y = height - bottom - tick / 1000 * (height - bottom - 10)
        ticks.append(
            f"<line x1='{left}' x2='{width}' y1='{y:.1f}' y2='{y:.1f}' "
            f"stroke='#dfe1e6'/><text x='{left - 6}' y='{y + px / 3:.1f}' "
            f"text-anchor='end'>{tick}</text>"
        )
    return f"<svg width='{width}' height='{height}'>{''.join(ticks + bars)}</svg>"


def dashboard(rng: random.Random, paragraphs: list[str], px: int) -> str:
    """An operations dashboard: KPI cards, an SVG bar chart, a table and an activity feed."""
    words = rng.sample(texts.HELD_OUT_WORDS, 8)
    cards = "".join(
        f"<div class='card kpi grow'>{w.capitalize()} this week<b>{rng.randint(1, 999):,}."
        f"{rng.randint(0, 9)}k</b><span class='{c}'>{'+' if c == 'up' else '-'}"
        f"{rng.randint(1, 30)}.{rng.randint(0, 9)}% vs last week</span></div>"
        for w, c in zip(words[:4], rng.choices(("up", "down"), k=4), strict=True)
    )
    rows = "".join(
        f"<tr><td>/{w}/{rng.choice(texts.HELD_OUT_WORDS)}</td><td class='n'>"
        f"{rng.randint(100, 99_999):,}</td><td class='n'>{rng.randint(20, 900)} ms</td>"
        f"<td class='n'>{rng.randint(0, 500) / 100:.2f}%</td></tr>"
        for w in rng.choices(texts.HELD_OUT_WORDS, k=12)
    )
    feed = "".join(
        f"<div><b>{rng.choice(SENDERS)}</b> {escape(s)}</div>"
        for s in texts.sentences(paragraphs)[:9]
    )
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] * 2
    chart = _bar_svg(rng, days, 620, px)
    body = f"""
<div class='row head'><b>Operations</b><span>Overview</span><span>Services</span>
  <span>Incidents</span><span>Reports</span><span class='grow'></span><span>Last 14 days</span>
</div>
<main class='col grow'><div class='row cards'>{cards}</div>
  <div class='row cards'>
    <div class='card'><h3>Daily {words[4]} (thousands)</h3>{chart}</div>
    <div class='card grow'><h3>Slowest endpoints</h3><table><tr><th>Endpoint</th>
      <th class='n'>Calls</th><th class='n'>p95</th><th class='n'>Errors</th></tr>{rows}
      </table></div></div>
  <div class='card feed grow'><h3>Activity</h3>{feed}</div>
</main>"""
    return page(DASHBOARD_CSS.replace("PX", str(px)), body, HELD_OUT_FONT)


REVIEW_CSS = """
body { font-size: PXpx; background: #fff; color: #1f2328; }
.head { padding: 14px 24px 0; border-bottom: 1px solid #d0d7de; }
.head h1 { font-size: 20px; font-weight: 400; } .head .meta { color: #59636e; margin: 6px 0 10px; }
.tabs { gap: 4px; } .tabs span { padding: 8px 14px; } .tabs .on { border-bottom: 2px solid #fd8c73;
  font-weight: 600; }
.files { padding: 14px 24px; gap: 16px; overflow: hidden; }
.file { border: 1px solid #d0d7de; border-radius: 6px; overflow: hidden; }
.file .name { background: #f6f8fa; padding: 8px 12px; border-bottom: 1px solid #d0d7de;
  font-family: MONO; }
.diff { font: PXpx/1.5 MONO; white-space: pre; }
.diff span { display: inline-block; width: 44px; text-align: right; padding-right: 8px;
  color: #59636e; }
.add { background: #dafbe1; } .del { background: #ffebe9; }
.hunk { background: #ddf4ff; color: #59636e; }
.comment { border: 1px solid #d0d7de; border-radius: 6px; margin: 8px 60px; padding: 8px 12px;
  font-family: FONT; white-space: normal; line-height: 1.5; }
.side { width: 280px; padding-left: 10px; color: #59636e; } .side b { color: #1f2328; }
.side div { padding: 8px 0; border-bottom: 1px solid #d0d7de; }
"""


def _diff_lines(rng: random.Random, module: str, count: int) -> list[tuple[str, str]]:
    """Source lines of `module` with a few seeded edits, as (kind, text) diff rows."""
    rows = []
    _, lines = texts.source_lines(module, ("def ", "class "), count)
    for line in lines:
        if line.strip() and rng.random() < 0.12:
            rows += [("del", line), ("add", line.rstrip() + "  # reviewed")]
        else:
            rows.append(("", line))
    return rows


def code_review(rng: random.Random, paragraphs: list[str], px: int, module: str) -> str:
    """A pull request's 'Files changed' tab: a unified diff with a review comment."""
    rows, old, new = [], 1, 1
    for i, (kind, line) in enumerate(_diff_lines(rng, module, 48)):
        numbers = (
            f"<span>{'' if kind == 'add' else old}</span><span>"
            f"{'' if kind == 'del' else new}</span>"
        )
        mark = {"add": "+", "del": "-"}.get(kind, " ")
        rows.append(f"<div class='{kind}'>{numbers}{mark} {escape(line)}</div>")
        old += kind != "add"
        new += kind != "del"
        if i == 14:
            rows.append(f"<div class='comment'><b>reviewer</b> {escape(paragraphs[0])}</div>")
    title = " ".join(texts.sentences(paragraphs)[-1].split()[:8]).rstrip(".,;:")
    side = "".join(
        f"<div><b>{k}</b><br>{v}</div>"
        for k, v in (
            ("Reviewers", "2 approvals pending"),
            ("Labels", "refactor, needs tests"),
            ("Milestone", f"Release {rng.randint(2, 9)}.{rng.randint(0, 20)}"),
            ("Checks", f"{rng.randint(8, 30)} passed, 1 pending"),
        )
    )
    body = f"""
<div class='head'><h1>{escape(title)} <span class='muted'>#{rng.randint(100, 9999)}</span></h1>
  <div class='meta'>Open: wants to merge {rng.randint(1, 9)} commits into main</div>
  <div class='row tabs'><span>Conversation</span><span>Commits</span><span>Checks</span>
    <span class='on'>Files changed</span></div></div>
<div class='row files grow'><div class='file grow'><div class='name'>Lib/{module}.py</div>
  <div class='diff'><div class='hunk'><span></span><span></span>@@ -1,48 +1,52 @@</div>
  {"".join(rows)}</div></div><div class='side'>{side}</div></div>"""
    css = REVIEW_CSS.replace("PX", str(px)).replace("MONO", HELD_OUT_MONO)
    return page(css.replace("FONT", HELD_OUT_FONT), body, HELD_OUT_FONT)


ISSUES_CSS = """
body { font-size: PXpx; background: #fafbfc; color: #24292f; }
.head { height: 52px; background: #24292f; color: #fff; align-items: center; padding: 0 20px;
  gap: 18px; } .head b { font-size: 15px; }
main { padding: 16px 24px; overflow: hidden; }
.bar { gap: 10px; margin-bottom: 12px; align-items: center; }
.bar span { border: 1px solid #d0d7de; border-radius: 6px; padding: 5px 10px; background: #fff; }
.box { border: 1px solid #d0d7de; border-radius: 6px; background: #fff; overflow: hidden; }
.box .top { background: #f6f8fa; padding: 10px 14px; gap: 18px; border-bottom: 1px solid #d0d7de; }
.issue { padding: 8px 14px; border-bottom: 1px solid #d8dee4; gap: 10px; }
.issue .t { font-weight: 600; } .issue .m { color: #57606a; margin-top: 2px; }
.label { font-size: 0.9em; padding: 0 7px; border-radius: 10px; margin-left: 6px; color: #fff; }
"""
LABELS = (
    ("bug", "#d73a4a"),
    ("docs", "#0075ca"),
    ("enhancement", "#0e8a16"),
    ("question", "#6f42c1"),
    ("performance", "#b60205"),
)


def issue_tracker(rng: random.Random, paragraphs: list[str], px: int) -> str:
    """An issue list: titles from documentation sentences, labels, numbers and ages."""
    issues = []
    for sentence in texts.sentences(paragraphs)[:24]:
        title = " ".join(sentence.split()[:11]).rstrip(".,;:")
        labels = "".join(
            f"<span class='label' style='background:{colour}'>{name}</span>"
            for name, colour in rng.sample(LABELS, rng.randint(0, 2))
        )
        issues.append(
            f"<div class='issue'><div class='t'>{escape(title)}{labels}</div>"
            f"<div class='m'>#{rng.randint(1000, 9999)} opened {rng.randint(2, 60)} days ago by "
            f"{rng.choice(SENDERS).lower().replace(' ', '-')} &middot; "
            f"{rng.randint(0, 40)} comments</div></div>"
        )
    body = f"""
<div class='row head'><b>tracker</b><span>Issues</span><span>Pull requests</span>
  <span>Projects</span><span>Wiki</span></div>
<main class='col grow'><div class='row bar'><span class='grow'>is:issue is:open sort:updated</span>
  <span>Labels</span><span>Milestones</span><span>New issue</span></div>
  <div class='box'><div class='row top'><b>{rng.randint(200, 900)} Open</b>
    <span>{rng.randint(900, 5000)} Closed</span><span class='grow'></span><span>Author</span>
    <span>Label</span><span>Sort</span></div>{"".join(issues)}</div></main>"""
    return page(ISSUES_CSS.replace("PX", str(px)), body, HELD_OUT_FONT)
