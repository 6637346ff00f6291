"""RFM inputs, percentile and quantile scores and first-rule-wins segmentation computed by hand (issue 21).

Mutation testing (``scripts/mutation.py rfm``) showed that ``crm_models.rfm.scores`` and
``segments.segment_customers`` were only checked through invariants (scores in range, ties share a score,
monotone in the value). Each test here asserts values worked out by hand from the documented rules and names
the mutation classes it was written against:

- inputs (``rfm_inputs``): a purchase is a row with ``amount >= 0`` (a zero amount counts, a return does not),
  ``monetary`` is net of returns, first/last purchase ignore returns, recency counts calendar days from the
  last purchase to the last day of the window, rows without a customer id are dropped, and the default window
  ends on the day of the last transaction;
- percentile score ``100 * (midrank - 0.5) / n`` and quantile score ``min(n_bins, floor(pct * n_bins / 100) + 1)``
  (module docstring of ``crm_models.rfm.scores``);
- segments: the first rule a customer satisfies names its segment, everyone else is in the remainder.

Error tests assert what the project rule asks for (the column, the rule, the parameter, example rows), plus the
first words of the message (anchored, so that a mangled message is caught), not the whole sentence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.data.engine import duckdb_backend
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.rfm import percentile_scores, quantile_scores, rfm_inputs, rfm_scores, segment_customers
from crm_models.rfm.segments import SegmentRule


def _tx(rows: list[tuple[str | None, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    return frame


#: a: a return before and after its only purchase; b: one purchase of amount 0; c: two small purchases, the
#: second on the last day; d: only a return; a row without a customer id after everyone else.
SHOP = _tx([
    ("a", "2023-12-30", -1.0), ("a", "2024-01-01", 10.0), ("a", "2024-01-05", -3.0),
    ("b", "2024-01-03", 0.0),
    ("c", "2024-01-04", 0.5), ("c", "2024-01-08 12:00", 0.25),
    ("d", "2024-01-02", -5.0),
    (None, "2024-01-09", 5.0),
])


# ------------------------------------------------------------------------------------------------ rfm_inputs
def test_rfm_inputs_by_hand_with_the_default_window() -> None:
    # The window ends on the day of the last transaction with a customer id (8 January; the id-less row on the
    # 9th is dropped first). mutations checked: purchase rule `amount > 0` (b lost) / `>= 1` (c lost),
    # customers kept with `frequency >= 0` (d) / `> 1` (a, b lost), first/last purchase over every row
    # (`where=` dropped: a's first 2023-12-30, last 5 January), the window's last day cut off (`end_day - 1`),
    # `end_day + last_day`, the id filter dropped, column order and dtypes.
    out = rfm_inputs(SHOP)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out.columns) == ["recency_days", "frequency", "monetary", "first_purchase", "last_purchase"]
    assert out["recency_days"].tolist() == [7, 5, 0]
    assert out["frequency"].tolist() == [1, 1, 2]
    assert out["monetary"].tolist() == pytest.approx([6.0, 0.0, 0.75])  # net of returns
    assert pd.to_datetime(out["first_purchase"]).tolist() == [pd.Timestamp(d) for d in
                                                              ("2024-01-01", "2024-01-03", "2024-01-04")]
    assert pd.to_datetime(out["last_purchase"]).tolist() == [pd.Timestamp(d) for d in
                                                             ("2024-01-01", "2024-01-03", "2024-01-08 12:00")]
    assert (out["recency_days"].dtype, out["frequency"].dtype, out["monetary"].dtype) == ("int64", "int64",
                                                                                          "float64")


def test_rfm_inputs_customer_ids_become_strings() -> None:
    # Integer ids are cast to text by the engine and sorted as text; the index has pandas' string dtype.
    # mutations checked: the cast of customer_id (dropped / unknown type), the index dtype (`astype(None)`)
    tx = _tx([(10, "2024-01-01", 1.0), (2, "2024-01-02", 1.0)])  # type: ignore[list-item]
    out = rfm_inputs(tx)
    assert list(out.index) == ["10", "2"]
    assert out.index.dtype == pd.StringDtype()


def test_rfm_inputs_ignore_extra_columns_the_engine_cannot_store() -> None:
    # Only the canonical columns go to the engine (extra_columns=False): an interval column, which DuckDB cannot
    # register, does not stop the aggregation. mutation checked: `extra_columns` dropped / `True`
    tx = SHOP.assign(band=pd.arrays.IntervalArray.from_breaks(np.arange(len(SHOP) + 1)))
    pd.testing.assert_frame_equal(rfm_inputs(tx), rfm_inputs(SHOP))


def test_rfm_inputs_and_scores_use_the_backend_given() -> None:
    # A DataFrame is registered with the backend passed in (ARCHITECTURE.md: one engine per run).
    # mutation checked: `backend=` dropped or `None` in rfm_inputs and in rfm_scores' call of it
    def n_tables(con) -> int:
        return con.con.execute("select count(*) from information_schema.tables").fetchall()[0][0]

    for call in (lambda con: rfm_inputs(SHOP, backend=con), lambda con: rfm_scores(SHOP, backend=con)):
        con = duckdb_backend()
        before = n_tables(con)
        call(con)
        assert n_tables(con) > before


def test_rfm_inputs_errors_name_the_column_and_the_rule() -> None:
    # mutations checked: the `column=` / `rule=` of both errors, their messages, the emptiness test
    # (`last is not None`, `pd.isna(None)`: every table would be refused)
    with pytest.raises(DataContractError, match="^the transactions table has no rows with a customer id") as info:
        rfm_inputs(SHOP.assign(customer_id=None))
    assert (info.value.column, info.value.rule) == ("customer_id", "a table must have at least one row")
    assert "nothing to score" in str(info.value)
    with pytest.raises(DataContractError, match="^no customer has a purchase") as info:
        rfm_inputs(SHOP[SHOP["amount"] < 0])
    assert (info.value.column, info.value.rule) == ("amount", "at least one purchase")
    with pytest.raises(ConfigurationError, match="observation_end='not a date'"):
        rfm_inputs(SHOP, observation_end="not a date")


def test_rfm_inputs_observation_end_in_the_middle() -> None:
    # End 4 January (the whole day): a has its purchase on the 1st (recency 3), b on the 3rd (1), c on the 4th
    # (0, only the first purchase). mutations checked: the end ignored (`observation_end` not passed on /
    # `is None` tests swapped), `timestamp <= bound`, `end_day` from the bound (one day more)
    out = rfm_scores(SHOP, observation_end="2024-01-04")
    assert out["recency_days"].to_dict() == {"a": 3, "b": 1, "c": 0}
    assert out["frequency"].to_dict() == {"a": 1, "b": 1, "c": 1}
    assert out.loc["c", "monetary"] == pytest.approx(0.5)
    # midnight of the 5th exactly is outside a window that ends on the 4th: a's return there does not count
    assert out.loc["a", "monetary"] == pytest.approx(9.0)


# --------------------------------------------------------------------------------------- percentile / quantile
def test_percentile_scores_by_hand() -> None:
    # 100 * (midrank - 0.5) / n. mutations checked: the empty / single-value shortcuts (`size != 0`,
    # `size == 1`), `higher_is_better` ignored or inverted, `+array`, the rank method, 101 / +0.5 / -1.5 / `* n`
    assert percentile_scores([7.0]).tolist() == [50.0]
    assert percentile_scores(np.array([])).shape == (0,)
    values = [0.0, 10.0, 10.0, 30.0]
    assert percentile_scores(values).tolist() == pytest.approx([12.5, 50.0, 50.0, 87.5])
    assert percentile_scores(values, higher_is_better=False).tolist() == pytest.approx([87.5, 50.0, 50.0, 12.5])
    assert percentile_scores(pd.Series([3, 1, 2])).tolist() == pytest.approx([100 * 2.5 / 3, 100 * 0.5 / 3,
                                                                              100 * 1.5 / 3])


def test_percentile_scores_refuse_missing_values_in_any_dtype() -> None:
    # An object column with None (e.g. read from a file with mixed values) gets the named error, not NumPy's
    # TypeError. mutations checked: the float conversion (`dtype=None`), the rule and the message
    for values in (pd.Series([1, None, 3], dtype=object), [1.0, np.nan]):
        with pytest.raises(DataContractError, match="^RFM inputs contain missing values") as info:
            percentile_scores(values)
        assert info.value.rule == "scores need complete values"


def test_quantile_scores_by_hand() -> None:
    # min(n_bins, floor(pct * n_bins / 100) + 1), integers, five bins by default.
    # mutations checked: the default number of bins, `astype(None)` (floats), `/ n_bins`, `- 1`, `+ 2`
    default = quantile_scores(np.array([0.0, 19.9, 20.0, 99.0, 100.0]))
    assert default.tolist() == [1, 1, 2, 5, 5]
    assert np.issubdtype(default.dtype, np.integer)
    assert quantile_scores(np.array([24.9, 25.0, 74.9, 100.0]), 4).tolist() == [1, 2, 3, 4]


# ------------------------------------------------------------------------------------------------- rfm_scores
INPUTS = pd.DataFrame({"recency_days": [0, 10, 10, 30], "frequency": [1, 2, 3, 4],
                       "monetary": [5.0, 5.0, 100.0, -2.0]}, index=pd.Index(list("wxyz"), name="customer_id"))


def test_rfm_scores_by_hand() -> None:
    # recency 0, 10, 10, 30 (lower is better) -> R_pct 87.5, 50, 50, 12.5 -> R 5, 3, 3, 1
    # frequency 1..4 -> F_pct 12.5, 37.5, 62.5, 87.5 -> F 1, 2, 4, 5
    # monetary 5, 5, 100, -2 -> M_pct 50, 50, 87.5, 12.5 -> M 3, 3, 5, 1
    # mutations checked: which column feeds which score, `higher_is_better=True` for recency, the default of
    # five bins, the cell text ("513") and the total (R + F + M), the output column names
    out = rfm_scores(inputs=INPUTS)
    assert out["R_pct"].tolist() == pytest.approx([87.5, 50.0, 50.0, 12.5])
    assert out["F_pct"].tolist() == pytest.approx([12.5, 37.5, 62.5, 87.5])
    assert out["M_pct"].tolist() == pytest.approx([50.0, 50.0, 87.5, 12.5])
    assert out["R"].tolist() == [5, 3, 3, 1]
    assert out["F"].tolist() == [1, 2, 4, 5]
    assert out["M"].tolist() == [3, 3, 5, 1]
    assert out["rfm_cell"].tolist() == ["513", "323", "345", "151"]
    assert out["rfm_total"].tolist() == [9, 8, 12, 7]
    assert list(out.columns) == [*INPUTS.columns, "R_pct", "F_pct", "M_pct", "R", "F", "M", "rfm_cell",
                                 "rfm_total"]
    pd.testing.assert_frame_equal(out[INPUTS.columns], INPUTS)  # the inputs are kept as they were


def test_rfm_scores_with_two_bins_and_one_customer() -> None:
    # n_bins=2 is the smallest allowed (mutations `n_bins <= 2`, `< 3`); one customer is scored (`len == 1`)
    two = rfm_scores(inputs=INPUTS, n_bins=2)
    assert two["R"].tolist() == [2, 2, 2, 1] and two["F"].tolist() == [1, 1, 2, 2]
    single = rfm_scores(inputs=INPUTS.iloc[[0]])
    assert single[["R_pct", "F_pct", "M_pct"]].iloc[0].tolist() == [50.0, 50.0, 50.0]
    assert single["rfm_cell"].tolist() == ["333"]


def test_rfm_scores_zero_recency_is_valid_and_negative_recency_is_named() -> None:
    # recency 0 (a purchase on the last day) is fine; a negative one is refused with the offending rows only.
    # mutations checked: `recency_days <= 0` / `< 1` in the test and in the example rows, `column=` / `rule=`
    # / `examples=` of the error, its message
    inputs = pd.DataFrame({"recency_days": [0, -1, 3], "frequency": [1, 1, 1], "monetary": [1.0, 2.0, 3.0]},
                          index=["zero", "neg", "three"])
    rfm_scores(inputs=inputs.drop(index="neg"))
    with pytest.raises(DataContractError, match="^recency is negative") as info:
        rfm_scores(inputs=inputs)
    assert (info.value.column, info.value.rule) == ("recency_days", "recency_days >= 0")
    assert list(info.value.examples.index) == ["neg"]


@pytest.mark.parametrize("column", ["recency_days", "frequency", "monetary"])
def test_rfm_scores_name_a_missing_input_column(column: str) -> None:
    # mutations checked: `column in inputs.columns` (inverted), the `column=` / `rule=` of the error
    with pytest.raises(DataContractError, match=repr(column)) as info:
        rfm_scores(inputs=INPUTS.drop(columns=column))
    assert (info.value.column, info.value.rule) == (column, "required column")


def test_rfm_scores_bad_calls() -> None:
    # mutations checked: the messages of the ValueErrors (None), `inputs is not None`, `transactions is not None`,
    # the empty-input error's rule and message
    with pytest.raises(ValueError, match="n_bins"):
        rfm_scores(inputs=INPUTS, n_bins=1)
    with pytest.raises(ValueError, match="^pass transactions or inputs"):
        rfm_scores()
    with pytest.raises(DataContractError, match="^the RFM inputs are empty") as info:
        rfm_scores(inputs=INPUTS.iloc[:0])
    assert info.value.rule == "at least one customer"


# ------------------------------------------------------------------------------------------ segment_customers
def _scores(r_pct: list[float], f_pct: list[float]) -> pd.DataFrame:
    n = len(r_pct)
    return pd.DataFrame({"R_pct": r_pct, "F_pct": f_pct, "M_pct": [50.0] * n},
                        index=pd.Index([f"k{i}" for i in range(n)], name="customer_id"))


def test_segment_customers_first_rule_wins_over_three_overlapping_rules() -> None:
    # k0 satisfies all three rules, k1 the last two, k2 only the catch-all "third", k3 the first only.
    # mutations checked: `unassigned = ~hit` (k0 and k3 would be re-labelled by a later rule), `|= ~hit`,
    # `&= hit`, `mask | unassigned`, the rule table ignored (`parse_rules(None)`)
    scores = _scores([90, 10, 10, 90], [90, 90, 10, 10])
    rules = [{"segment": "first", "R": ">=50"}, {"segment": "second", "F": ">=50"}, {"segment": "third"}]
    segments = segment_customers(scores, rules)
    assert segments.astype(str).tolist() == ["first", "second", "third", "first"]
    assert list(segments.cat.categories) == ["first", "second", "third"]  # no remainder: nobody is left


def test_segment_customers_remainder_and_the_series_it_returns() -> None:
    # An explicit short remainder next to a long rule name: labels are not cut to the remainder's length
    # (mutation `np.full(..., dtype=None)` gives a fixed-width text array); the remainder is the last category
    # only when someone is in it (mutations `... if unassigned.any()` forced true / false); the explicit
    # remainder wins over the rule set's (mutation: remainder always from `remainder_for`); the result keeps
    # the scores' index and is named "segment".
    scores = _scores([90, 10], [50, 50])
    rules = [SegmentRule("a rather long segment name", {"R": ">=50"})]
    segments = segment_customers(scores, rules, remainder="x")
    assert segments.astype(str).tolist() == ["a rather long segment name", "x"]
    assert list(segments.cat.categories) == ["a rather long segment name", "x"]
    assert segments.name == "segment" and segments.index.equals(scores.index)
    everyone = segment_customers(scores, [SegmentRule("all", {})], remainder="x")
    assert list(everyone.cat.categories) == ["all"]
    default = segment_customers(scores, rules)
    assert default.astype(str).tolist() == ["a rather long segment name", "unsegmented"]


def test_segment_customers_refuses_a_remainder_that_is_a_rule_name() -> None:
    # mutations checked: the test inverted (`not in`), the rule and the message of the error
    scores = _scores([90], [90])
    with pytest.raises(DataContractError, match="'gold'") as info:
        segment_customers(scores, [{"segment": "gold", "R": ">=50"}], remainder="gold")
    assert info.value.rule == "remainder differs from every rule name"


def test_segment_categories_follow_the_rule_order_and_keep_empty_rules() -> None:
    # The categories are the rule names in the table's order (not sorted), including a rule nobody satisfies,
    # then the remainder. mutations checked: `categories=` dropped / None / `order = None` (categories inferred
    # from the labels: sorted, without the empty rule)
    scores = _scores([90, 10, 10], [10, 90, 10])
    rules = [{"segment": "zeta", "R": ">=50"}, {"segment": "alpha", "F": ">=50"}, {"segment": "empty", "R": ">100"}]
    segments = segment_customers(scores, rules, remainder="rest")
    assert segments.astype(str).tolist() == ["zeta", "alpha", "rest"]
    assert list(segments.cat.categories) == ["zeta", "alpha", "empty", "rest"]
