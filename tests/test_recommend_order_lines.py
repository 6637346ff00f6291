"""The order_lines contract, its cleaning rules (drops counted by reason) and the Online Retail line loader."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import clean_order_lines, order_lines_quality_report, read_order_lines
from crm_models.datasets import load_online_retail, load_online_retail_lines
from crm_models.exceptions import DataContractError


def raw_lines() -> pd.DataFrame:
    return pd.DataFrame({
        "Invoice": ["1", "1", "2", "3", "3", "4", "5", "5"],
        "Client": ["c1", "c1", "c2", None, "c3", "c3", "c4", "c4"],
        "When": ["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-02", "2024-01-03", "2024-01-03",
                 "2024-01-04", "2024-01-10 09:00", "2024-01-11 08:00"],
        "Sku": ["a", "b", "a", "a", None, "b", "a", "b"],
        "qty": ["1", "2", "-1", "1", "1", "0", "1", "1"],
        "value": ["2.5", "4", "-2.5", "2.5", "3", "0", "2.5", "2"],
        "desc": ["Mug", "Tea", "Mug", "Mug", "?", "Tea", "Mug", "Tea"],
    })


MAPPING = {"order_id": "Invoice", "customer_id": "Client", "timestamp": "When", "product_id": "Sku",
           "quantity": "qty", "amount": "value", "description": "desc"}


def test_read_order_lines_maps_and_types_columns() -> None:
    lines = read_order_lines(raw_lines(), columns=MAPPING)
    assert list(lines.columns[:7]) == ["order_id", "customer_id", "timestamp", "product_id", "quantity", "amount",
                                       "description"]
    assert len(lines) == 8, "the reader never drops rows"
    assert pd.api.types.is_datetime64_any_dtype(lines["timestamp"])
    assert lines["quantity"].dtype == "float64" and lines["amount"].sum() == pytest.approx(14.0)
    assert pd.api.types.is_string_dtype(lines["product_id"])


def test_read_order_lines_names_the_missing_column() -> None:
    mapping = {k: v for k, v in MAPPING.items() if k != "product_id"}
    with pytest.raises(DataContractError, match="product_id") as error:
        read_order_lines(raw_lines().drop(columns="Sku"), columns=mapping)
    assert error.value.column == "product_id" and error.value.rule == "required column"


def test_read_order_lines_shows_rows_with_a_non_numeric_quantity() -> None:
    frame = raw_lines()
    frame.loc[2, "qty"] = "two"
    with pytest.raises(DataContractError, match="non-numeric quantity") as error:
        read_order_lines(frame, columns=MAPPING)
    assert "two" in str(error.value)


def test_clean_order_lines_counts_each_drop_by_reason() -> None:
    lines = read_order_lines(raw_lines(), columns=MAPPING)
    kept, report = clean_order_lines(lines, observation_end="2024-01-10")
    assert report.dropped("missing customer id") == 1
    assert report.dropped("missing product id") == 1
    assert report.dropped("cancellation or return") == 1
    assert report.dropped("non-positive amount") == 1
    # "2024-01-10" is the whole day: the 09:00 line stays, the 11th goes.
    assert report.dropped("timestamp after observation end") == 1
    assert report.rows_in == report.rows_kept + report.rows_dropped == 8
    assert kept["order_id"].tolist() == ["1", "1", "5"]
    assert order_lines_quality_report(lines, observation_end="2024-01-10").rows_kept == 3


def test_clean_order_lines_keeps_returns_when_asked() -> None:
    lines = read_order_lines(raw_lines(), columns=MAPPING)
    kept, report = clean_order_lines(lines, returns="keep")
    assert report.dropped("cancellation or return") == 0
    assert (kept["quantity"] < 0).sum() == 1


@pytest.fixture(scope="module")
def retail_lines(shared_data):
    return load_online_retail_lines(shared_data / "online_retail.csv.gz", return_report=True)


@pytest.mark.realdata
def test_online_retail_lines_report_matches_the_invoice_loader(shared_data, retail_lines) -> None:
    lines, report = retail_lines
    assert report.rows_in == 541_909
    assert report.dropped("missing customer id") == 135_080
    assert report.dropped("exact duplicate") == 5_225
    assert report.dropped("non-positive amount") == 40
    assert report.dropped("cancellation or return") == 0, "cancellations are kept as returns by default"
    assert report.rows_in == report.rows_kept + report.rows_dropped == len(lines) + report.rows_dropped
    returns = lines.loc[lines["is_return"]]
    assert len(returns) > 0 and (returns["quantity"] < 0).all() and (returns["amount"] < 0).all()
    # With non-products kept, the lines add up to the invoice loader's invoices.
    everything = load_online_retail_lines(shared_data / "online_retail.csv.gz", non_products="keep")
    invoices = load_online_retail(shared_data / "online_retail.csv.gz")
    assert everything["order_id"].nunique() == len(invoices)
    first = everything.loc[everything["order_id"] == "536365"]
    assert len(first) == 7 and first["amount"].sum() == pytest.approx(139.12)


@pytest.mark.realdata
def test_online_retail_lines_exclude_cancellations_and_non_products(shared_data) -> None:
    lines, report = load_online_retail_lines(shared_data / "online_retail.csv.gz", cancellations="exclude",
                                             return_report=True)
    assert report.dropped("cancellation or return") == 8_872, "the same count as load_online_retail's"
    assert report.dropped("not a product (postage, fee or manual adjustment)") > 1_000
    assert not lines["is_return"].any()
    assert not lines["product_id"].isin(["POST", "M", "DOT", "BANK CHARGES"]).any()
    assert lines["customer_id"].notna().all() and lines["product_id"].notna().all()
