"""Permissively licensed text for the generated samples, and helpers to shape it.

Sources (licences in data/SOURCES.md): the Python standard library's source and docstrings
(PSF-2.0), numpy's docstrings (BSD-3-Clause), the MIT and BSD-3-Clause licence texts, and prose
written for this project (MIT, like the project).
"""

import codecs
import contextlib
import importlib
import inspect
import io
import re

# --- prose written for this project ------------------------------------------------------------

REVIEW_TITLE = "Image encoding review: what our vision requests cost"
REVIEW = [
    "This review looks at every image our services sent to vision models last quarter and asks "
    "two questions: how many tokens did each image cost, and could we have sent fewer pixels "
    "without losing what the model needs to see? The answer differs by kind of image, which "
    "is why the recommendations below are given per category rather than as one setting.",
    "Photographs tolerate strong compression. Their detail is spread over the whole frame, and "
    "a model that describes a scene rarely needs the texture of a single leaf. Screenshots and "
    "scanned pages are the opposite case: most of the frame is flat background, but the text "
    "in it is small, and text that shrinks below about seven pixels stops being readable. A "
    "setting that saves money on photos can therefore break a task on screenshots.",
    "We measured each candidate setting on a sample of real files. For photos we compared the "
    "structural similarity of what the provider keeps with the original. For text images we "
    "ran optical character recognition on both and counted the words that survive. A setting "
    "is recommended only when it keeps the measure above the floor on every sampled image.",
    "The table lists the monthly volume and the cost per thousand images at the current and "
    "at the recommended settings. Costs are input tokens only; prompts and answers are billed "
    "separately and do not change with the image settings.",
    "Two caveats apply. First, the sample is small for some categories, and a category based "
    "on fewer than three images is marked as such. Second, providers change their resizing "
    "rules from time to time, so each figure names the rule set it was computed with. We will "
    "repeat the review when a provider publishes new rules or when our mix of images changes.",
    "Next quarter we will apply the recommended settings to one service at a time, starting "
    "with the batch jobs that send scanned invoices, and compare the answers the model gives "
    "before and after the change on a fixed set of requests. Any drop in the share of fields "
    "read correctly stops the rollout for that category until we understand the cause. The "
    "savings shown here assume the volumes of the last quarter and today's list prices.",
]
REVIEW_CATEGORIES = ("Photos", "Screenshots", "Documents", "Charts", "Graphics")

SETTINGS = {  # label, help text, control, value
    "Account": [
        ("Display name", "Shown next to your comments and in shared reports.", "text", "Ada"),
        (
            "Email address",
            "Used for sign-in and for weekly usage summaries.",
            "text",
            "ada@example.org",
        ),
        ("Time zone", "Reports and schedules use this zone.", "select", "Europe/Berlin"),
    ],
    "Image requests": [
        (
            "Longest side",
            "Images are resized so that their longest side fits this limit.",
            "text",
            "1024 px",
        ),
        (
            "Output format",
            "JPEG is smaller for photos; PNG keeps text and lines sharp.",
            "select",
            "WebP",
        ),
        ("Quality", "Higher values keep more detail and send more bytes.", "text", "80"),
        (
            "Detail level",
            "Low sends one small tile; high keeps more of the image.",
            "select",
            "High",
        ),
        ("Strip metadata", "Remove camera data and location before upload.", "toggle", "on"),
    ],
    "Notifications": [
        (
            "Budget alerts",
            "Send an email when monthly spend passes the limit below.",
            "toggle",
            "on",
        ),
        ("Monthly limit", "Amount in US dollars; leave empty for no limit.", "text", "250.00"),
        ("Failed requests", "Notify me when a batch has more than five errors.", "toggle", "off"),
    ],
}

TABLE_PRODUCTS = (
    "Field notebook",
    "Desk lamp",
    "Travel mug",
    "Cable organizer",
    "Laptop stand",
    "Wireless mouse",
    "Label printer",
    "Monitor arm",
    "Standing mat",
    "Paper tray",
    "Whiteboard",
    "Headset",
    "USB hub",
    "Webcam cover",
    "Drawing tablet",
)
TABLE_REGIONS = ("North", "South", "East", "West", "Central")
TABLE_STATUSES = ("Shipped", "Pending", "Delivered", "Returned", "Processing")

TERMINAL_LOG = (
    "Update the sample folder layout",
    "Add charts with small tick labels",
    "Render pages at three resolutions",
    "Check every text sample with OCR",
    "Record licences for the new files",
    "Keep the smoke preset quick",
)

# --- licence texts -----------------------------------------------------------------------------

MIT = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    'software and associated documentation files (the "Software"), to deal in the Software '
    "without restriction, including without limitation the rights to use, copy, modify, "
    "merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit "
    "persons to whom the Software is furnished to do so, subject to the following conditions:",
    "The above copyright notice and this permission notice shall be included in all copies or "
    "substantial portions of the Software.",
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, '
    "INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR "
    "PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE "
    "FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR "
    "OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER "
    "DEALINGS IN THE SOFTWARE.",
)
BSD_3_CLAUSE = (
    "Redistribution and use in source and binary forms, with or without modification, are "
    "permitted provided that the following conditions are met:",
    "1. Redistributions of source code must retain the above copyright notice, this list of "
    "conditions and the following disclaimer.",
    "2. Redistributions in binary form must reproduce the above copyright notice, this list of "
    "conditions and the following disclaimer in the documentation and/or other materials "
    "provided with the distribution.",
    "3. Neither the name of the copyright holder nor the names of its contributors may be used "
    "to endorse or promote products derived from this software without specific prior written "
    "permission.",
    'THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY '
    "EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF "
    "MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE "
    "COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, "
    "EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF "
    "SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) "
    "HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR "
    "TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS "
    "SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.",
)

# --- text taken from installed packages --------------------------------------------------------


def zen() -> list[str]:
    """The Zen of Python (`import this`, PSF-2.0): title first, then the 19 aphorisms."""
    with contextlib.redirect_stdout(io.StringIO()):
        this = importlib.import_module("this")
    return [line for line in codecs.decode(this.s, "rot13").splitlines() if line]


def source_lines(module: str, first: str | tuple[str, ...], count: int) -> tuple[int, list[str]]:
    """`count` source lines of a standard-library module from the first line that starts with
    `first` (or one of several prefixes), and that line's number."""
    lines = inspect.getsource(importlib.import_module(module)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    return start + 1, lines[start : start + count]


def prose(text: str) -> list[str]:
    """The plain paragraphs of a docstring, each joined into one line without reStructuredText
    roles and backquotes: no headings, tables, code, doctests, lists or directives."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        lines = block.splitlines()
        if len(lines) < 2 or any(_markup(line) for line in lines):
            continue
        joined = " ".join(line.strip() for line in lines)
        paragraphs.append(re.sub(r"`+", "", re.sub(r":\w+:`", "`", joined)))
    return paragraphs


def _markup(line: str) -> bool:
    stripped = line.strip()
    return (
        line.startswith((" ", "\t"))
        or stripped.startswith((">>>", "..", "-", "*", "=", "[", "|"))
        or set(stripped) <= set("-=~^ ")
    )


def doc_prose(dotted: str) -> list[str]:
    """The prose paragraphs of the docstring of an object named by its dotted path."""
    module, _, attribute = dotted.partition(":")
    target = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        target = getattr(target, part)
    return prose(target if isinstance(target, str) else inspect.getdoc(target) or "")


# --- held-out sources: never used by the committed samples --------------------------------------

HELD_OUT_PROSE = (
    "difflib:SequenceMatcher",
    "numpy.fft",
    "numpy:einsum",
    "numpy.lib.format",
    "numpy:linalg.eig",
    "numpy:memmap",
    "numpy.polynomial",
    "pdb",
    "socketserver",
    "site",
    "pydoc",
    "sched",
    "numpy:polyfit",
    "turtle",
    "urllib.parse",
)
HELD_OUT_CODE = ("bisect", "fractions", "colorsys", "calendar", "statistics", "graphlib")
HELD_OUT_WORDS = (
    "latency",
    "throughput",
    "requests",
    "errors",
    "storage",
    "uploads",
    "sessions",
    "queue",
    "cache",
    "tokens",
    "render",
    "backup",
    "billing",
    "search",
    "export",
    "import",
)


def sentences(paragraphs: list[str]) -> list[str]:
    """The sentences of some paragraphs, split after '.', '?' or '!' and a space."""
    return [s for p in paragraphs for s in re.split(r"(?<=[.?!])\s+", p) if len(s.split()) > 3]
