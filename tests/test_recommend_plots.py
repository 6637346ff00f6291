"""Recommendation plots draw and return Axes; rule sentences come from the rules table."""

from __future__ import annotations

import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from crm_models.plotting import recommend as plots
from crm_models.recommend.affinity import describe_rules, rule_label

RULES = pd.DataFrame({"antecedents": [("a",), ("a", "b")], "consequents": [("b",), ("c",)],
                      "confidence": [0.5, 0.25], "lift": [3.0, 12.4], "count": [40, 9]})


def test_plots_return_axes() -> None:
    table = pd.DataFrame({"precision": [0.05, 0.1], "recall": [0.02, 0.05], "ndcg": [0.06, 0.12],
                          "hit_rate": [0.3, 0.5]}, index=pd.Index(["popularity", "EASE"], name="model"))
    ax = plots.plot_evaluation(table, k=10)
    assert next(t.get_text() for t in ax.get_xticklabels()) == "Precision@10"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["popularity", "EASE"]
    ax = plots.plot_top_rules(RULES, {"a": "RED MUG", "b": "TEA"})
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "Red mug \u2192 Tea"


def test_sentences_follow_the_rules_table() -> None:
    sentences = describe_rules(RULES, {"a": "RED MUG"}, top=2)
    assert sentences[0] == "Of the orders with Red mug, 50% also had b: 3.0 times as often as orders overall (40 orders)."
    assert "Red mug and b" in sentences[1] and "25%" in sentences[1] and "12 times" in sentences[1]
    assert rule_label(("x",), ("y",)) == "x \u2192 y"
