"""Product affinity and next-best-product recommendations from order lines.

- :func:`association_rules` / :func:`frequent_itemsets`: "customers who bought A also bought B", counted by the
  engine (DuckDB by default) for item sets of up to three products.
- Recommenders with one interface (``fit(lines)``, ``recommend(customer_ids, k=10, exclude_purchased=True)``):
  :class:`PopularityRecommender`, :class:`ItemCosineRecommender`, :class:`EASERecommender` and
  :class:`ALSRecommender` (needs the optional ``implicit`` package).
- :func:`evaluate_recommenders`: temporal validation with precision, recall, MAP, NDCG, hit rate and coverage.
- :func:`describe_rules`: the strongest rules as sentences for the affinity report.
- :func:`next_products`: per-customer top-k products; :func:`crm_models.customers.enrich.next_product_columns`
  puts them into the customer table and the activation export.
"""

from crm_models.recommend.affinity import describe_rules, rule_label
from crm_models.recommend.als import ALSRecommender
from crm_models.recommend.baskets import basket_items
from crm_models.recommend.candidates import candidate_recommenders
from crm_models.recommend.ease import EASERecommender
from crm_models.recommend.evaluation import (
    EvaluationResult,
    TemporalSplit,
    average_precision_at_k,
    catalogue_coverage,
    evaluate_recommenders,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    temporal_split,
)
from crm_models.recommend.interactions import Interactions, build_interactions, interaction_counts
from crm_models.recommend.item_item import ItemCosineRecommender
from crm_models.recommend.outputs import next_products
from crm_models.recommend.popularity import PopularityRecommender
from crm_models.recommend.rules import (
    FrequentItemsets,
    association_rules,
    frequent_itemsets,
    rules_from_itemsets,
)

__all__ = [
    "ALSRecommender",
    "EASERecommender",
    "EvaluationResult",
    "FrequentItemsets",
    "Interactions",
    "ItemCosineRecommender",
    "PopularityRecommender",
    "TemporalSplit",
    "association_rules",
    "average_precision_at_k",
    "basket_items",
    "build_interactions",
    "candidate_recommenders",
    "catalogue_coverage",
    "describe_rules",
    "evaluate_recommenders",
    "frequent_itemsets",
    "hit_rate_at_k",
    "interaction_counts",
    "map_at_k",
    "ndcg_at_k",
    "next_products",
    "precision_at_k",
    "recall_at_k",
    "rule_label",
    "rules_from_itemsets",
    "temporal_split",
]
