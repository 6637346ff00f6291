"""The recommendation report's sentences, built from the fitted results (rules table, evaluation) so that the
words always say what the numbers say: the headline pair for the landing page and the evaluation verdict.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crm_models.recommend.affinity import product_names
from crm_models.recommend.evaluation import EvaluationResult
from crm_models.recommend.popularity import PopularityRecommender


def _times(lift: float) -> str:
    return f"{lift:.0f}" if lift >= 10 else f"{lift:.1f}"


def top_pair_sentence(rules: pd.DataFrame, labels: Any = None) -> str:
    """``"customers who buy X also buy Y (lift 12)"`` for the first rule of ``rules`` (the strongest by lift in
    the order :func:`~crm_models.recommend.association_rules` returns), or a sentence saying none was found."""
    if len(rules) == 0:
        return "no products are bought together often enough to pass the support and confidence thresholds"
    row = rules.iloc[0]
    return (f"customers who buy {product_names(row['antecedents'], labels)} also buy "
            f"{product_names(row['consequents'], labels)} (lift {_times(float(row['lift']))})")


def evaluation_table(result: EvaluationResult) -> pd.DataFrame:
    """The evaluation table for a report: the six metrics and precision against the baseline (named in the column
    label: "popularity" for a popularity baseline, else its label), best model first."""
    columns = ["precision", "recall", "map", "ndcg", "hit_rate", "coverage", "precision_vs_baseline"]
    table = result.table[columns].sort_values("precision", ascending=False, kind="stable")
    k = result.k
    names = {"precision": f"Precision@{k}", "recall": f"Recall@{k}", "map": f"MAP@{k}", "ndcg": f"NDCG@{k}",
             "hit_rate": f"Hit rate@{k}", "coverage": f"Catalogue coverage@{k}",
             "precision_vs_baseline": f"Precision vs {_baseline_label(result)} (x)"}
    return table.rename(columns=names)


def _baseline_label(result: EvaluationResult) -> str:
    return "popularity" if result.baseline_is_popularity() else result.baseline


def describe_evaluation(result: EvaluationResult, *, metric: str = "precision", baseline: str | None = None,
                        horizon_days: int | None = None) -> str:
    """One sentence naming the model the temporal evaluation chose (highest ``metric``) and how it compares
    with the baseline (``result.baseline`` unless ``baseline`` names another row), with the cutoff, the window
    and the number of customers it was measured on."""
    table, k = result.table, result.k
    baseline = result.baseline if baseline is None else baseline
    best = result.best_model(metric)
    days = horizon_days if horizon_days is not None else (result.window_end - result.cutoff).days
    value, base = float(table.loc[best, metric]), float(table.loc[baseline, metric])
    popular = isinstance(result.models.get(baseline), PopularityRecommender)
    baseline_words = "recommending the most popular products" if popular else f"the baseline **{baseline}**"
    # the cutoff is the first instant after the training period: its last included instant names the day
    last_trained = result.cutoff - pd.Timedelta(1, "ns")
    measured = (f"trained on the orders up to {last_trained:%d %B %Y} and scored on the "
                f"products {result.n_customers:,} customers bought for the first time in the next {days} days")
    if best == baseline:
        return (f"The temporal evaluation chose **{best}**: no model beat {baseline_words} "
                f"({metric} at {k} {value:.3f}; {measured}).")
    ratio = f"{value / base:.1f} times" if base > 0 else "more than"
    return (f"The temporal evaluation chose **{best}**: {value:.1%} of its top {k} products were bought "
            f"({metric} at {k} {value:.3f}), {ratio} the {base:.3f} of {baseline_words} ({measured}).")


def one_rule_per_itemset(rules: pd.DataFrame) -> pd.DataFrame:
    """The first rule of each item set (A -> B and B -> A share one): in the table's order, so the strongest by
    lift then confidence stays; for a report that names each group of products once."""
    if len(rules) == 0:
        return rules
    itemsets = [tuple(sorted((*a, *c))) for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)]
    return rules.loc[~pd.Series(itemsets, index=rules.index).duplicated()]


def describe_categories(lines: pd.DataFrame, *, min_support: float = 0.01, min_confidence: float = 0.3,
                        top: int = 3) -> list[str]:
    """What sells with what across categories: sentences for the strongest category pairs bought on one order
    (rules on baskets of categories instead of products, lift above 1 only, one direction per pair); empty when
    the lines have no ``category`` column."""
    from crm_models.recommend.affinity import describe_rules
    from crm_models.recommend.rules import association_rules

    if "category" not in lines.columns:
        return []
    categories = lines.loc[lines["category"].notna()].assign(product_id=lambda f: f["category"])
    rules = association_rules(categories, min_support=min_support, min_confidence=min_confidence, max_size=2)
    rules = one_rule_per_itemset(rules.loc[rules["lift"] > 1])
    names = {c: str(c).capitalize() for c in categories["category"].unique()}
    return describe_rules(rules, names, top=top)
