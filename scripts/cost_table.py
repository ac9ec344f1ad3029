"""Print the README's cost tables (Markdown) from the rule sets and price table in the package.

.venv/bin/python scripts/cost_table.py [--detail auto] [--tier standard]
"""

import argparse

from toolkit.errors import ImageRejectedError, RulesError, UnsupportedDetailError
from toolkit.pricing import cost_usd, default_price_tables
from toolkit.rulesets import default_rule_sets
from toolkit.tokens import image_tokens

SIZES = [(800, 600), (1024, 1024), (1920, 1080), (4032, 3024)]  # seed output, square, FHD, 12 MP


def _cell(width: int, height: int, model: str, detail: str, tier: str) -> str:
    """'tokens ($ per 1,000 images)', or tokens alone when the model has no price."""
    try:
        tokens = image_tokens(width, height, model, detail).tokens
    except ImageRejectedError:
        return "rejected"
    except UnsupportedDetailError:
        return "n/a"
    try:
        return f"{tokens:,} (${cost_usd(tokens * 1000, model, tier):,.2f})"
    except RulesError:
        return f"{tokens:,}"


def table(detail: str, tier: str) -> str:
    header = "| model | rules | " + " | ".join(f"{w}×{h}" for w, h in SIZES) + " |"
    lines = [header, "|" + "---|" * (len(SIZES) + 2)]
    for rules in sorted(default_rule_sets(), key=lambda r: r.provider != "openai"):
        for model in rules.models:
            cells = [_cell(w, h, model, detail, tier) for w, h in SIZES]
            lines.append(f"| {model} | {rules.id} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detail", default="auto")
    parser.add_argument("--tier", default="standard")
    args = parser.parse_args()
    ids = ", ".join(t.id for t in default_price_tables())
    print(
        f"Image tokens at `detail={args.detail}` and, in brackets, dollars per 1,000 images at "
        f"{args.tier} input rates ({ids}); models without a price show tokens only."
    )
    print()
    print(table(args.detail, args.tier))


if __name__ == "__main__":
    main()
