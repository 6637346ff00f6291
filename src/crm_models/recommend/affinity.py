"""Association rules in words, for the product affinity report ("what sells with what").

Sentences are built from the rules table (numbers rounded, products named by their labels), never typed by
hand, so that the report always says what the fitted rules say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def product_names(products: tuple, labels: Mapping[str, str] | pd.Series | None = None) -> str:
    """A readable name for a tuple of product ids: their labels (descriptions) joined by "and"."""
    lookup = dict(labels.items()) if labels is not None else {}
    names = [str(lookup.get(p, p)).strip().capitalize() if lookup.get(p) is not None else str(p) for p in products]
    return " and ".join(names)


def rule_label(antecedents: tuple, consequents: tuple, labels: Any = None) -> str:
    """``"A -> B"`` with product labels, for chart axes and tables."""
    return f"{product_names(antecedents, labels)} \u2192 {product_names(consequents, labels)}"


def describe_rules(rules: pd.DataFrame, labels: Any = None, *, top: int = 5) -> list[str]:
    """One sentence per rule for the ``top`` rules (in the table's order, by lift by default).

    >>> rules = pd.DataFrame({"antecedents": [("a",)], "consequents": [("b",)], "confidence": [0.623],
    ...                       "lift": [14.04], "count": [210]})
    >>> describe_rules(rules, {"a": "RED MUG", "b": "BLUE MUG"})[0]
    'Of the orders with Red mug, 62% also had Blue mug: 14 times as often as orders overall (210 orders).'
    """
    sentences = []
    for row in rules.head(int(top)).itertuples(index=False):
        lift = float(row.lift)
        times = f"{lift:.0f}" if lift >= 10 else f"{lift:.1f}"
        sentences.append(
            f"Of the orders with {product_names(row.antecedents, labels)}, {float(row.confidence):.0%} also had "
            f"{product_names(row.consequents, labels)}: {times} times as often as orders overall "
            f"({int(row.count):,} orders)."
        )
    return sentences
