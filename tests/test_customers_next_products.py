"""Next products in the customer table (issue 15 item 5): next_product_columns -> extend_customer_table -> the
stored table, its schema and the activation export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models.customers import (
    NEXT_PRODUCT_COLUMNS,
    CustomerTableSettings,
    activation_export,
    build_customer_table,
    extend_customer_table,
    load_or_build_customer_table,
    next_product_columns,
    read_customer_table,
)
from crm_models.customers.enrich import Enrichment, check_next_product_columns
from crm_models.datasets.demo_order_lines import simulate_order_lines
from crm_models.datasets.sources import load_transactions_source
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.recommend import EASERecommender, ItemCosineRecommender, PopularityRecommender

SETTINGS = CustomerTableSettings(n_estimators=30, capacity=40, seed=3, n_training_cutoffs=1)
K = 4


@pytest.fixture(scope="module")
def loaded():
    return load_transactions_source("demo", n_customers=300, seed=7, returns="keep")


@pytest.fixture(scope="module")
def table(loaded):
    return build_customer_table(loaded.transactions, observation_end=loaded.observation_end, settings=SETTINGS)


@pytest.fixture(scope="module")
def lines(loaded):
    return simulate_order_lines(loaded.transactions, seed=7)


@pytest.fixture(scope="module")
def model(lines):
    return ItemCosineRecommender().fit(lines)


def _bought(lines: pd.DataFrame) -> dict[str, set[str]]:
    bought: dict[str, set[str]] = {}
    for customer, product in lines.loc[lines["quantity"] > 0, ["customer_id", "product_id"]].itertuples(index=False):
        bought.setdefault(str(customer), set()).add(str(product))
    return bought


def _ranked(columns: pd.DataFrame, k: int) -> pd.Series:
    cols = [f"next_product_{n}" for n in range(1, k + 1)]
    return columns[cols].apply(lambda r: [p for p in r if not pd.isna(p)], axis=1)


def test_k_products_per_customer_none_already_bought(table, lines, model) -> None:
    added = next_product_columns(model, table.frame.index, k=K, model="item cosine")
    cols = [f"next_product_{n}" for n in range(1, K + 1)]
    assert list(added.columns.columns) == [*cols, "next_products", "next_products_model"]
    assert added.columns.index.equals(table.frame.index)
    ranked, bought = _ranked(added.columns, K), _bought(lines)
    assert (ranked.map(len) == K).all(), "every customer gets k products (the catalogue is larger than anyone's basket)"
    assert all(not (set(r) & bought.get(str(c), set())) for c, r in ranked.items()), "nothing already bought"
    assert (added.columns["next_products_model"] == "item cosine").all()
    # the same ranking as the recommender's own output, best first
    first = table.frame.index[0]
    own = model.recommend([first], k=K)
    assert ranked[first] == list(own.sort_values("rank")["product_id"])
    assert set(added.descriptions) == {*cols, "next_products", "next_products_model"}
    assert added.details == {"model": "item cosine", "k": K, "exclude_purchased": True,
                             "customers_with_products": len(table)}


def test_without_exclusion_bought_products_come_back(table, lines, model) -> None:
    """The check above can fail: ranked without the exclusion, some customers get a product they bought."""
    added = next_product_columns(model, table.frame.index, k=K, exclude_purchased=False)
    ranked, bought = _ranked(added.columns, K), _bought(lines)
    assert any(set(r) & bought.get(str(c), set()) for c, r in ranked.items())
    assert added.details["exclude_purchased"] is False


def test_customers_not_asked_for_get_empty_values_not_an_error(table, model) -> None:
    first = table.frame.nsmallest(25, "priority").index
    added = next_product_columns(model, table.frame.index, k=K, model="item cosine", recommend_for=first)
    rest = added.columns.drop(index=first)
    assert len(rest) == len(table) - 25 and rest.isna().all().all()
    assert added.columns.loc[first, "next_product_1"].notna().all()
    assert added.details["customers_with_products"] == 25
    note = f"next products for 25 of {len(table)} customers; {len(table) - 25} not asked for (recommend_for)"
    assert added.notes == [note]


def test_labels_name_the_products_and_ids_stay_ids(table, lines, model) -> None:
    labels = lines.drop_duplicates("product_id").set_index("product_id")["description"]
    added = next_product_columns(model, table.frame.index[:5], k=2, labels=labels)
    row = added.columns.iloc[0]
    assert row["next_products"] == f"{labels[row['next_product_1']]}; {labels[row['next_product_2']]}"
    assert added.columns["next_products_model"].eq("ItemCosineRecommender").all(), "class name without a label"


def test_round_trip_schema_and_activation_export(tmp_path, table, model) -> None:
    first = table.frame.nsmallest(30, "priority").index
    added = next_product_columns(model, table.frame.index, k=K, model="item cosine", recommend_for=first)
    extended = extend_customer_table(table, added, folder=tmp_path)
    assert "next_product_1" not in table.frame.columns, "the table handed in is left as it was"
    back = read_customer_table(tmp_path)
    pd.testing.assert_frame_equal(back.frame, extended.frame)
    assert back.metadata["column_groups"]["next_products"]["model"] == "item cosine"
    schema = json.loads((tmp_path / "customers.schema.json").read_text())
    assert schema["columns"]["next_product_2"].startswith("id of the product ranked 2 for the customer")
    assert schema["columns"]["next_products_model"] == NEXT_PRODUCT_COLUMNS["next_products_model"]
    activation = pd.read_csv(tmp_path / "activation.csv", dtype=str, keep_default_na=False)
    assert list(activation.columns) == ["customer_id", "segment", "action", "priority", "as_of",
                                        *[f"next_product_{n}" for n in range(1, K + 1)], "next_products",
                                        "next_products_model"]
    by_id = activation.set_index("customer_id")
    assert (by_id.loc[list(first), "next_product_4"] != "").all()
    others = by_id.drop(index=list(first))
    assert (others[["next_product_1", "next_products", "next_products_model"]] == "").all().all()
    assert activation["priority"].astype(int).is_monotonic_increasing
    assert list(activation_export(back).columns) == list(activation.columns)


def test_adding_the_group_again_replaces_its_columns(table, model) -> None:
    once = extend_customer_table(table, next_product_columns(model, table.frame.index, k=5,
                                                             recommend_for=table.frame.index[:3]))
    twice = extend_customer_table(once, next_product_columns(model, table.frame.index, k=2))
    added = [c for c in twice.frame.columns if c.startswith("next_product")]
    assert added == ["next_product_1", "next_product_2", "next_products", "next_products_model"]
    assert "next_product_5" not in twice.metadata["added_columns"]
    assert not [n for n in twice.notes if n.startswith("next products for")], "the earlier group's note is gone"
    assert list(twice.frame.columns[: len(table.frame.columns)]) == list(table.frame.columns)


def test_the_next_notebook_of_the_run_reads_the_extended_table(tmp_path, loaded, model) -> None:
    tx, end = loaded.transactions, loaded.observation_end
    built = load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    extend_customer_table(built, next_product_columns(model, built.frame.index, k=3), folder=tmp_path)
    again = load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    assert again.frame["next_product_3"].notna().all()


def test_bad_additions_are_refused(table, model) -> None:
    with pytest.raises(ConfigurationError, match="2 customers of recommend_for are not in the customer table"):
        next_product_columns(model, table.frame.index, k=2, recommend_for=["nobody-1", "nobody-2"])
    with pytest.raises(ConfigurationError, match="k must be a positive integer"):
        next_product_columns(model, table.frame.index, k=0)
    clash = Enrichment(table.frame[["segment"]].assign(segment="x"), group="mine")
    with pytest.raises(ConfigurationError, match="'segment'"):
        extend_customer_table(table, clash)
    with pytest.raises(ConfigurationError, match="group name"):
        extend_customer_table(table, Enrichment(pd.DataFrame(index=table.frame.index)))


def _columns(rows: list[list[str | None]]) -> pd.DataFrame:
    k = max(len(r) for r in rows)
    frame = pd.DataFrame([r + [None] * (k - len(r)) for r in rows], columns=[f"next_product_{n + 1}" for n in range(k)],
                         dtype="string")
    first = frame["next_product_1"].notna()
    frame["next_products"] = frame["next_product_1"].where(first)
    frame["next_products_model"] = pd.Series("m", index=frame.index, dtype="string").where(first)
    return frame


@pytest.mark.parametrize(("rows", "column", "rule"), [
    ([["a", "b"], [None, "b"]], "next_product_<n>", "without gaps"),
    ([["a", "a"], ["b", None]], "next_product_<n>", "at most once"),
])
def test_the_contract_names_the_broken_rule(rows, column, rule) -> None:
    with pytest.raises(DataContractError, match=rule) as caught:
        check_next_product_columns(_columns(rows))
    assert caught.value.column == column
    check_next_product_columns(_columns([["a", "b"], ["c", None], [None, None]]))  # a valid table passes
    with pytest.raises(DataContractError, match="incomplete") as missing:
        check_next_product_columns(_columns([["a", "b"]]).drop(columns="next_products_model"))
    assert missing.value.column == "next_products_model"


def test_a_stored_table_with_broken_next_products_is_refused_on_read(tmp_path, table, model) -> None:
    extend_customer_table(table, next_product_columns(model, table.frame.index, k=2), folder=tmp_path)
    stored = pd.read_parquet(tmp_path / "customers.parquet")
    stored.loc[0, "next_product_1"] = None
    stored.to_parquet(tmp_path / "customers.parquet", index=False)
    with pytest.raises(DataContractError, match="without gaps"):
        read_customer_table(tmp_path)
    stored.drop(columns="next_product_2").to_parquet(tmp_path / "customers.parquet", index=False)
    with pytest.raises(DataContractError, match="lacks 1 of its columns") as caught:
        read_customer_table(tmp_path)
    assert caught.value.column == "next_product_2"


@st.composite
def _purchases(draw):
    n_customers, n_products = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    pairs = draw(st.lists(st.tuples(st.integers(0, n_customers - 1), st.integers(0, n_products - 1)),
                          min_size=1, max_size=30))
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(len(pairs))],
                         "customer_id": [f"c{c}" for c, _ in pairs], "product_id": [f"p{p}" for _, p in pairs],
                         "quantity": 1.0})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_purchases(), k=st.integers(1, 6), extra=st.integers(0, 2))
def test_every_customer_gets_min_k_and_what_is_left(lines, k, extra) -> None:
    """Invariant: a customer seen in fit gets min(k, products not bought yet) products, an unseen customer min(k,
    catalogue) (the popularity ranking); the columns always satisfy the contract."""
    model = PopularityRecommender().fit(lines)
    customers = pd.Index([*sorted(lines["customer_id"].unique()), *[f"new{i}" for i in range(extra)]],
                         name="customer_id")
    added = next_product_columns(model, customers, k=k)
    check_next_product_columns(added.columns)
    catalogue, bought = lines["product_id"].nunique(), lines.groupby("customer_id")["product_id"].nunique()
    expected = np.minimum(k, catalogue - bought.reindex(customers, fill_value=0).to_numpy())
    assert (_ranked(added.columns, k).map(len).to_numpy() == expected).all()
    assert added.columns["next_products"].isna().to_numpy().tolist() == (expected == 0).tolist()
    assert added.details["customers_with_products"] == int((expected > 0).sum())


def test_ease_in_the_table_matches_its_own_top_product(table, lines) -> None:
    ease = EASERecommender(l2=50.0).fit(lines)
    added = next_product_columns(ease, table.frame.index[:20], k=1, model="EASE")
    top = ease.recommend(table.frame.index[:20], k=1).set_index("customer_id")["product_id"]
    assert (added.columns["next_product_1"].to_numpy() == top.reindex(table.frame.index[:20].astype(str)).to_numpy()).all()


def test_a_stored_table_that_breaks_the_contract_is_rebuilt_not_reused(tmp_path, loaded) -> None:
    tx, end = loaded.transactions, loaded.observation_end
    built = load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    pd.read_parquet(tmp_path / "customers.parquet").drop(columns="tags").to_parquet(tmp_path / "customers.parquet")
    again = load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    pd.testing.assert_frame_equal(again.frame, built.frame)
    assert "tags" in pd.read_parquet(tmp_path / "customers.parquet").columns, "written again, whole"
