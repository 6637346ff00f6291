"""Parts of the customer table checked on tables small enough to compute by hand: tags, segment change, priority,
settings, the reasons a stored table is not reused, activation columns, optional columns when the data cannot give
them, next-product columns and their contract, and the per-segment overview.

Each test names the mutation class it guards against (issue 21, mutation score of the ``customers`` family)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_models.customers import CustomerTableSettings, customer_tags, next_product_columns
from crm_models.customers.build import CustomerTable, _priority, _segment_change
from crm_models.customers.enrich import (
    LIFECYCLE_COLUMNS,
    LOYALTY_COLUMNS,
    check_next_product_columns,
    enrich,
    next_product_descriptions,
)
from crm_models.customers.overview import customer_revenue, segment_overview
from crm_models.customers.run import check_table_folder
from crm_models.customers.store import ACTIVATION_COLUMNS, _differences, activation_columns
from crm_models.exceptions import ConfigurationError, DataContractError

AS_OF = pd.Timestamp("2025-03-01")


def test_tags_at_their_edges() -> None:
    """Six customers, one rule each at or just past its edge (new: age < 90 days; high value: clv >= cut; likely
    lost: P(alive) < 0.2). Guards: comparisons moved by one, a flag read from the wrong column, the index lost."""
    table = pd.DataFrame({
        "frequency": [0, 1, 1, 1, 1, 1],
        "age_days": [400.0, 89.0, 90.0, 400.0, 400.0, 400.0],
        "lapsed": [False, False, False, True, False, False],
        "clv": [10.0, 10.0, 10.0, 10.0, 50.0, 49.9],
        "risk_tier": ["low", "low", "low", "lapsed", "high", "high"],
        "probability_alive": [0.9, 0.2, 0.19, 0.5, 0.9, 0.9],
    }, index=pd.Index(list("uvwxyz"), name="customer_id"))
    tags = customer_tags(table, high_value_cut=50.0, new_customer_days=90)
    assert tags.index.equals(table.index) and tags.name == "tags"
    assert tags.tolist() == ["one-time buyer", "new customer", "likely lost", "lapsed",
                             "high value; high value at risk", ""]


def test_segment_change_in_words() -> None:
    """Guards: the labels of 'unchanged' and a move swapped or dropped."""
    previous = pd.Series([np.nan, "loyal", "loyal"], index=list("abc"), dtype=object)
    current = pd.Series(["new", "loyal", "at risk"], index=list("abc"), dtype=object)
    assert _segment_change(previous, current).tolist() == ["new customer", "unchanged", "loyal -> at risk"]


def test_priority_by_tier_then_value_at_risk_lapsed_last_by_clv() -> None:
    """Guards: the tier order lost (e.g. every tier ranked alike), sort directions flipped."""
    frame = pd.DataFrame({"risk_tier": ["low", "high", "lapsed", "medium", "high", "lapsed"],
                          "value_at_risk": [90.0, 1.0, np.nan, 50.0, 5.0, np.nan],
                          "clv": [1.0, 1.0, 10.0, 1.0, 1.0, 20.0]}, index=list("abcdef"))
    assert _priority(frame).tolist() == [4, 2, 6, 3, 1, 5]


@pytest.mark.parametrize(("bad", "name"), [
    ({"purchase_model": "gamma"}, "purchase_model"), ({"time_unit": "M"}, "time_unit"),
    ({"horizon": 0}, "horizon"), ({"churn_horizon_days": 0}, "churn_horizon_days"),
    ({"lookback_days": -1}, "lookback_days"), ({"margin": 1.01}, "margin"),
    ({"high_value_quantile": 1.0}, "high_value_quantile"), ({"n_training_cutoffs": 0}, "n_training_cutoffs"),
    ({"points_expiring_days": 0}, "points_expiring_days")])
def test_settings_refuse_each_bad_value_by_name(bad, name) -> None:
    """Guards: a bound's comparison flipped or the name missing from the message."""
    with pytest.raises(ConfigurationError, match=name):
        CustomerTableSettings(**bad)


def test_settings_accept_the_edges() -> None:
    """The edges themselves are valid: margin 0 and 1, one training cutoff, points expiring within 1 day, every
    purchase model. Guards: ``<`` turned into ``<=`` (or the membership test inverted)."""
    for model in ("bgnbd", "mbgnbd", "pareto"):
        assert CustomerTableSettings(purchase_model=model).purchase_model == model
    edge = CustomerTableSettings(margin=0.0, n_training_cutoffs=1, points_expiring_days=1, time_unit="D")
    assert (edge.margin, edge.n_training_cutoffs, edge.points_expiring_days) == (0.0, 1, 1)
    assert CustomerTableSettings(margin=1.0, loyalty_rules=Path("r.yaml")).loyalty_rules == "r.yaml"


def test_differences_name_only_what_differs_with_the_tables_value() -> None:
    """Guards: a difference reported when equal (or not when different), the table's value not shown."""
    settings = CustomerTableSettings()
    metadata = {"settings": settings.to_dict(), "segment_rules": repr("rules A"), "observation_end": "2024-01-01",
                "fingerprint": "f1", "loyalty_rules_sha256": None}
    assert _differences(metadata, settings, "rules A", "2024-01-01", "f1") == "unknown difference"
    text = _differences(metadata, CustomerTableSettings(horizon=26.0), "rules B", "2024-02-01", "f2")
    assert "horizon=26.0 (table: 52.0)" in text
    assert "segment_rules='rules B' (table: 'rules A')" in text
    assert "observation_end=2024-02-01 (table: 2024-01-01)" in text
    assert "other transactions" in text and "margin" not in text
    same_rules = _differences(metadata, settings, "rules A", "2024-02-01", "f1")
    assert "segment_rules" not in same_rules and "observation_end" in same_rules


def _table(frame: pd.DataFrame, metadata: dict | None = None) -> CustomerTable:
    return CustomerTable(frame, AS_OF, CustomerTableSettings(), metadata=metadata or {})


def test_activation_columns_add_only_the_groups_marked_for_activation() -> None:
    """Guards: the groups read under another key, the activation flag ignored."""
    frame = pd.DataFrame({"x": [1], "y": [2]}, index=pd.Index(["a"], name="customer_id"))
    groups = {"g": {"columns": ["x", "gone"], "activation": True}, "h": {"columns": ["y"], "activation": False}}
    assert activation_columns(_table(frame, {"column_groups": groups})) == [*ACTIVATION_COLUMNS, "x"]
    assert activation_columns(_table(frame)) == ACTIVATION_COLUMNS


def test_check_table_folder_empty_means_none() -> None:
    """Guards: ``or`` turned into ``and`` (an empty string would become the current folder)."""
    assert check_table_folder(None) is None and check_table_folder("") is None
    assert check_table_folder("data/processed/x") == Path("data/processed/x")


def test_empty_optional_columns_keep_their_types() -> None:
    """Data without repeat buyers: the lifecycle columns are there, empty, with their documented types (a date, a
    flag, numbers), and described. Guards: the type of an empty column lost (the date column would be numbers)."""
    history = pd.DataFrame({"customer_id": ["A", "B"], "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                            "amount": [10.0, 20.0]})
    settings = CustomerTableSettings(lifecycle_columns=True)
    out = enrich(history, pd.Index(["A", "B"], name="customer_id"), as_of=AS_OF, settings=settings)
    columns = out.columns
    assert list(columns.columns) == list(LIFECYCLE_COLUMNS)
    assert pd.api.types.is_datetime64_any_dtype(columns["next_expected_purchase"])
    assert str(columns["overdue"].dtype) == "boolean"
    assert columns["usual_interval_days"].dtype == "float64" and columns.isna().all().all()
    assert set(out.descriptions) == set(LIFECYCLE_COLUMNS)
    assert len(out.notes) == 1 and "rhythm" in out.notes[0], "the note says which group is empty"


def test_lifecycle_columns_are_judged_at_the_as_of_date() -> None:
    """A buys every 7 days and B every 10 days, both last on 2024-12-01; on the as-of date 2025-03-01 (90 days
    later) both are overdue, while on the day of their last purchase neither would be. Guards: the as-of date not
    handed on (the rhythm would be judged at the last purchase in the data)."""
    last = pd.Timestamp("2024-12-01")
    rows = [("A", last - pd.Timedelta(days=7 * k)) for k in range(8)] + \
           [("B", last - pd.Timedelta(days=10 * k)) for k in range(8)]
    history = pd.DataFrame(rows, columns=["customer_id", "timestamp"]).assign(amount=10.0)
    settings = CustomerTableSettings(lifecycle_columns=True)
    late = enrich(history, pd.Index(["A", "B"]), as_of=AS_OF, settings=settings).columns
    assert late["overdue"].tolist() == [True, True]
    same_day = enrich(history, pd.Index(["A", "B"]), as_of=last, settings=settings).columns
    assert same_day["overdue"].tolist() == [False, False]


def test_next_product_descriptions_spell_out_every_rank() -> None:
    """Guards: the range of ranks starting at 2 (the first column undescribed)."""
    described = next_product_descriptions(2)
    assert list(described) == ["next_product_1", "next_product_2", "next_products", "next_products_model"]
    assert "ranked 1" in described["next_product_1"] and "ranked 2" in described["next_product_2"]
    assert "<n>" not in described["next_product_1"]


class _Fixed:
    """A recommender that returns fixed products per customer (``recommend(ids, k, exclude_purchased)``)."""

    def __init__(self, products: dict[str, list[str]]) -> None:
        self.products = products

    def recommend(self, ids, k, exclude_purchased=True):
        rows = [(c, p, r) for c in ids for r, p in enumerate(self.products.get(str(c), [])[:k], start=1)]
        return pd.DataFrame(rows, columns=["customer_id", "product_id", "rank"])


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_next_products_refuse_a_k_that_is_not_a_positive_integer(k) -> None:
    """Guards: ``or`` turned into ``and`` in the check of ``k`` (0 and 2.5 would pass)."""
    with pytest.raises(ConfigurationError, match="k must"):
        next_product_columns(_Fixed({}), pd.Index(["a"]), k=k)


def test_next_product_columns_by_hand() -> None:
    """a gets p1, p2 (k = 2 cuts p3), b nothing left, c not asked for. Guards: lookups by the wrong key, the
    counts in the note, details renamed."""
    out = next_product_columns(_Fixed({"a": ["p1", "p2", "p3"], "b": []}), pd.Index(["a", "b", "c"]), k=2,
                               model="fixed", recommend_for=["a", "b"], labels={"p1": "Tea"})
    cols = out.columns
    assert cols["next_product_1"].tolist()[0] == "p1" and cols["next_product_2"].tolist()[0] == "p2"
    assert cols["next_product_1"].isna().tolist() == [False, True, True]
    assert cols.loc["a", "next_products"] == "Tea; p2" and cols.loc["a", "next_products_model"] == "fixed"
    assert out.details == {"model": "fixed", "k": 2, "exclude_purchased": True, "customers_with_products": 1}
    assert out.notes == [("next products for 1 of 3 customers; 1 not asked for (recommend_for), "
                          "1 with no product left to recommend")]


def test_the_next_product_contract_names_the_column() -> None:
    """``next_products`` present without ``next_product_1``. Guards: the column named in the error changed."""
    columns = pd.DataFrame({"next_product_1": pd.array([pd.NA], dtype="string"),
                            "next_products": pd.array(["Tea"], dtype="string"),
                            "next_products_model": pd.array([pd.NA], dtype="string")})
    with pytest.raises(DataContractError) as broken:
        check_next_product_columns(columns)
    assert broken.value.column == "next_products"


def _overview_table() -> CustomerTable:
    frame = pd.DataFrame({
        "segment": ["champions", "lost", "champions", "new"],
        "days_since_last_purchase": [10.0, 300.0, 20.0, 5.0],
        "clv": [100.0, 0.0, 300.0, 100.0],
        "probability_alive": [0.9, 0.1, 0.7, 0.8],
        "value_at_risk": [10.0, np.nan, 30.0, np.nan],
        "risk_tier": ["high", "lapsed", "low", "high"],
    }, index=pd.Index(["c1", "c2", "c3", "c4"], name="customer_id"))
    return _table(frame)


def test_segment_overview_by_hand() -> None:
    """Two champions (clv 100 + 300, P(alive) 0.9 and 0.7, value at risk 10 + 30, one high risk), one lost, one
    new; revenue 60, 0 (none) and 20. Guards: shares computed wrongly, columns or the index renamed, the value at
    risk of unscored customers not 0, the revenue share lost."""
    table = _overview_table()
    revenue = pd.Series({"c1": 50.0, "c3": 10.0, "c4": 20.0})
    out = segment_overview(table, revenue=revenue)
    assert out.index.name == "segment"
    champions = out.loc["champions"]
    assert champions["customers"] == 2 and champions["customer_share"] == pytest.approx(0.5)
    assert champions["revenue"] == pytest.approx(60.0) and champions["revenue_share"] == pytest.approx(0.75)
    assert champions["total_clv"] == pytest.approx(400.0) and champions["clv_share"] == pytest.approx(0.8)
    assert champions["mean_clv"] == pytest.approx(200.0)
    assert champions["mean_probability_alive"] == pytest.approx(0.8)
    assert champions["mean_days_since_last_purchase"] == pytest.approx(15.0)
    assert champions["value_at_risk"] == pytest.approx(40.0) and champions["high_risk_customers"] == 1
    assert out.loc["lost", "value_at_risk"] == 0.0 and out.loc["lost", "revenue_share"] == 0.0
    assert out.loc["new", "high_risk_customers"] == 1
    assert out.index.tolist() == ["champions", "lost", "new"], "rule-set order, a segment outside the set last"
    assert out.loc["champions", "segment_action"] and out.loc["lost", "segment_action"]
    assert out.loc["new", "segment_action"] == "", "'new' is no segment of the default rule set"
    assert "revenue" not in segment_overview(table).columns


def test_customer_revenue_sums_purchases_only() -> None:
    """Returns (negative amounts) do not count; a customer without purchases has 0. Guards: grouped by the wrong
    key."""
    table = _overview_table()
    tx = pd.DataFrame({"customer_id": ["c1", "c1", "c3", "c2"], "amount": [30.0, -5.0, 10.0, -7.0],
                       "timestamp": pd.to_datetime(["2024-01-01"] * 4)})
    assert customer_revenue(table, tx).tolist() == [30.0, 0.0, 10.0, 0.0]


def test_customer_revenue_compares_ids_as_text() -> None:
    """Numeric ids in the transactions (as a CSV gives them) against the table's text ids. Regression (review
    rev4): grouped by the raw ids, every customer's revenue came out 0."""
    table = _overview_table()
    tx = pd.DataFrame({"customer_id": [1, 1, 3], "amount": [30.0, 5.0, 10.0],
                       "timestamp": pd.to_datetime(["2024-01-01"] * 3)})
    numeric = _table(table.frame.set_axis(pd.Index(["1", "2", "3", "4"], name="customer_id")))
    revenue = customer_revenue(numeric, tx)
    assert revenue.tolist() == [35.0, 0.0, 10.0, 0.0] and revenue.index.equals(numeric.frame.index)


def test_loyalty_columns_keep_their_names() -> None:
    """Guards: a loyalty column renamed."""
    assert list(LOYALTY_COLUMNS) == ["tier", "points_outstanding", "points_expiring_soon"]


def _full_table(metadata: dict) -> CustomerTable:
    """Two customers with every column of the table (numbers 0/1, text 'x'), as a build would leave them."""
    from crm_models.customers import COLUMNS
    from crm_models.customers.build import TEXT_COLUMNS

    data = {c: (["x", "y"] if c in TEXT_COLUMNS else [1.0, 2.0]) for c in COLUMNS}
    data["priority"] = [2, 1]
    frame = pd.DataFrame(data, index=pd.Index(["c1", "c2"], name="customer_id"))
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype("str")
    settings = CustomerTableSettings(horizon=26.0)
    return CustomerTable(frame, AS_OF, settings, notes=["a note"],
                         metadata={"as_of": "2025-03-01", "settings": settings.to_dict(), "notes": ["a note"],
                                   **metadata})


def test_write_and_read_back_a_table_whose_metadata_holds_a_date(tmp_path) -> None:
    """Metadata a notebook added (e.g. when a model was fitted) may hold a timestamp: the schema stores it as text
    and the table reads back with its settings, notes and metadata. Guards: the JSON fallback for such values
    dropped, the metadata or notes not read back, the returned path wrong."""
    import json

    from crm_models.customers import read_customer_table, write_customer_table
    from crm_models.customers.store import SCHEMA_FILE

    table = _full_table({"fitted_at": pd.Timestamp("2025-02-01 12:00"), "added_columns": {"extra": "a note column"}})
    table.frame["extra"] = [0.5, 0.25]
    path = write_customer_table(table, tmp_path)
    assert path == tmp_path / "customers.parquet" and path.exists()
    schema = json.loads((tmp_path / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert schema["metadata"]["fitted_at"] == "2025-02-01 12:00:00"
    assert schema["columns"]["customer_id"].startswith("customer identifier")
    assert schema["columns"]["extra"] == "a note column", "added columns are described in the schema"
    back = read_customer_table(tmp_path)
    assert back.frame.index.name == "customer_id" and back.frame.index.tolist() == ["c1", "c2"]
    assert back.settings.horizon == 26.0 and back.notes == ["a note"] and back.as_of == AS_OF
    assert back.metadata["fitted_at"] == "2025-02-01 12:00:00"
    activation = pd.read_csv(tmp_path / "activation.csv")
    assert activation["customer_id"].tolist() == ["c2", "c1"], "activation rows in priority order"


def test_churn_scores_without_a_model_are_empty_with_a_note() -> None:
    """Three customers over two months cannot train a churn model: the scores are empty frames (not ``None``),
    the note says why and the snapshot dates are still reported. Guards: ``None`` returned for an empty part."""
    from crm_models.customers.risk import score_churn

    tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "amount": [10.0, 20.0, 30.0],
                       "timestamp": pd.to_datetime(["2024-11-01", "2024-11-15", "2024-12-01"])})
    scores = score_churn(tx, data_end=pd.Timestamp("2025-01-01"), settings=CustomerTableSettings())
    assert scores.model is None and scores.note.startswith("no churn model")
    assert scores.probability.empty and isinstance(scores.features, pd.DataFrame) and scores.features.empty
    assert isinstance(scores.reasons, pd.DataFrame) and scores.reasons.empty
    assert scores.training_cutoffs[-1] == pd.Timestamp("2024-10-02"), "held out one horizon before 31 Dec"


def test_a_table_written_without_notes_reads_back_with_none(tmp_path) -> None:
    """Metadata without a ``notes`` entry (a table assembled by hand, not by the build) reads back with an empty
    list of notes. Guards: the default of the ``notes`` lookup dropped (``list(None)`` fails)."""
    from crm_models.customers import read_customer_table, write_customer_table

    table = _full_table({})
    del table.metadata["notes"]
    write_customer_table(table, tmp_path)
    assert read_customer_table(tmp_path).notes == []


def test_value_measures_each_customer_up_to_the_as_of_date() -> None:
    """Purchases end on 2024-06-15, the table's as-of date is 2024-06-30: every customer's age ``T`` (weeks) runs
    from their first purchase day to the as-of date, (2024-06-30 - first day) / 7, not to the last purchase in
    the data. Guards: the as-of date not handed to the summary (a quiet fortnight before the report would shorten
    every customer's age and raise their P(alive))."""
    from crm_models.customers.value import value_customers
    from crm_models.datasets.sources import load_transactions_source

    loaded = load_transactions_source("demo", n_customers=300, seed=7, returns="keep")
    tx = loaded.transactions[loaded.transactions["timestamp"] < pd.Timestamp("2024-06-16")]
    values = value_customers(tx, observation_end=pd.Timestamp("2024-06-30"), settings=CustomerTableSettings())
    first_day = tx[tx["amount"] > 0].groupby("customer_id")["timestamp"].min().dt.normalize()
    expected = (pd.Timestamp("2024-06-30") - first_day).dt.days / 7.0
    pd.testing.assert_series_equal(values.summary["T"].sort_index(), expected.sort_index(), check_names=False,
                                   check_index_type=False)
    assert values.values.index.equals(values.summary.index)
