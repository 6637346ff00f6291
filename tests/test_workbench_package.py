"""What notebooks 01 and 02 moved into the package: stakeholder tables, the run's inputs, segment figures of the
customer table, the CLV checks, segment migration since an earlier snapshot, and the suites' wiring."""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROJECT_ROOT
from crm_models.customers import CustomerTableSettings
from crm_models.customers.overview import customer_revenue, segment_overview
from crm_models.customers.run import check_table_folder, load_run
from crm_models.exceptions import ConfigurationError
from crm_models.plotting.tables import (
    decimals_for,
    format_money,
    format_share,
    human_label,
    stakeholder_table,
)

SMALL = {"n_customers": 400, "seed": 3, "n_estimators": 40, "capacity": 30}


@pytest.fixture(scope="module")
def run():
    return load_run(SMALL)


# ---- stakeholder tables ---------------------------------------------------------------------------------------

def test_stakeholder_table_labels_rounds_and_puts_the_currency_on_money() -> None:
    frame = pd.DataFrame({"clv": [1234.56, 15.0], "customer_share": [0.256, 0.004], "customers": [3000, 12],
                          "mean_frequency": [2.345, 1.0], "when": pd.to_datetime(["2024-12-31 00:00", "2025-01-02 13:05"])},
                         index=pd.Index(["champions", "lost"], name="segment"))
    html = stakeholder_table(frame, currency="GBP").to_html()
    for text in ("Customer value (CLV)", "Share of customers", "Mean frequency", ">Segment<", "GBP 1,235", "GBP 15<",
                 "26%", "0.4%", "3,000", "2.3", "31 Dec 2024", "02 Jan 2025"):
        assert text in html, text
    for raw in ("customer_share", "mean_frequency", "1234.56", "0.256", "00:00:00", "13:05"):
        assert raw not in html, raw


def test_stakeholder_table_escapes_text_and_index_from_data() -> None:
    frame = pd.DataFrame({"segment": ["<script>alert(1)</script>"]}, index=["<b>id</b>"])
    html = stakeholder_table(frame).to_html()
    assert "<script>" not in html and "<b>id</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;id&lt;/b&gt;" in html


def test_stakeholder_table_applies_ids_to_the_index() -> None:
    from crm_models.reporting.privacy import pseudonymize

    html = stakeholder_table(pd.DataFrame({"clv": [1.0]}, index=["C0001"]), ids=pseudonymize).to_html()
    assert "C0001" not in html and pseudonymize("C0001") in html


def test_labels_and_missing_values() -> None:
    assert human_label("value_at_risk") == "Value at risk"
    assert human_label("mean_recency_days") == "Mean recency days"
    assert human_label("clv", {"clv": "Value"}) == "Value"
    assert format_money(float("nan"), "EUR") == "-" and format_share(None) == "-"
    assert format_money(-0.2, "EUR") == "EUR 0" and format_money(-1234.4, "EUR") == "-EUR 1,234"
    assert decimals_for([0.3, 0.5]) == 2 and decimals_for([3.0, 4.0]) == 1 and decimals_for([30.0]) == 0
    assert decimals_for([3.0, 4.0], money=True) == 2


@settings(max_examples=200, deadline=None)
@given(value=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), places=st.integers(0, 3))
def test_format_money_reads_back_as_the_rounded_value(value: float, places: int) -> None:
    text = format_money(value, "EUR", places)
    sign = -1.0 if text.startswith("-") else 1.0
    number = float(text.lstrip("-").removeprefix("EUR ").replace(",", ""))
    assert text.lstrip("-").startswith("EUR ")
    assert math.isclose(sign * number, value, abs_tol=0.5 * 10 ** -places + 1e-9 * abs(value))


# ---- the run's inputs -------------------------------------------------------------------------------------------

def test_load_run_writes_the_table_into_the_given_folder(tmp_path) -> None:
    folder = tmp_path / "data" / "processed" / "demo"
    first = load_run({**SMALL, "customer_table": str(folder), "currency": "EUR"})
    assert {p.name for p in folder.iterdir()} == {"customers.parquet", "customers.schema.json", "activation.csv"}
    assert first.currency == "EUR" and first.table.settings.currency == "EUR"
    again = load_run({**SMALL, "customer_table": str(folder), "currency": "EUR"})
    assert again.table.value is None, "the second notebook of a run reads the table back"
    pd.testing.assert_frame_equal(again.table.frame, first.table.frame)
    # the CLV notebook refits the table's models when it reads the table back: the same values come out
    from crm_models.customers.value import value_customers

    refit = value_customers(again.transactions, observation_end=again.as_of, settings=again.table.settings)
    pd.testing.assert_series_equal(refit.values["clv"].sort_index(), again.table.frame["clv"].sort_index(),
                                   check_names=False, rtol=1e-9)


def test_load_run_refuses_a_folder_under_reports(tmp_path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigurationError, match="reports/"):
        check_table_folder(tmp_path / "reports" / "run-1")
    with pytest.raises(ConfigurationError, match="customer_table"):
        load_run({**SMALL, "customer_table": str(tmp_path / "reports")})
    assert check_table_folder(tmp_path / "data" / "processed" / "demo") == tmp_path / "data" / "processed" / "demo"
    assert check_table_folder(None) is None


def test_load_run_reads_table_settings_from_the_parameters(run) -> None:
    other = load_run({**SMALL, "purchase_model": "pareto", "horizon": 26, "unrelated": 1})
    assert other.table.settings.purchase_model == "pareto" and other.value_kwargs["horizon"] == 26
    assert run.value_kwargs == {"horizon": 52.0, "time_unit": "W", "discount_rate": 0.10, "margin": 0.30}
    assert (run.purchases["amount"] > 0).all() and (run.transactions["amount"] < 0).any(), "returns are kept"


# ---- segment figures of the table --------------------------------------------------------------------------------

def test_segment_overview_adds_up_to_the_table(run) -> None:
    frame = run.table.frame
    revenue = customer_revenue(run.table, run.transactions)
    overview = segment_overview(run.table, rules="rfm_grid", revenue=revenue)
    assert overview["customers"].sum() == len(frame)
    assert overview["customer_share"].sum() == pytest.approx(1.0)
    assert overview["total_clv"].sum() == pytest.approx(frame["clv"].sum())
    assert overview["value_at_risk"].sum() == pytest.approx(frame["value_at_risk"].sum())
    assert overview["high_risk_customers"].sum() == (frame["risk_tier"] == "high").sum()
    assert overview["revenue"].sum() == pytest.approx(run.purchases["amount"].sum())
    from crm_models.rfm import RFM_GRID_RULES

    order = [r.name for r in RFM_GRID_RULES]
    assert list(overview.index) == [name for name in order if name in set(frame["segment"])]
    assert overview.loc[overview.index[0], "segment_action"] == RFM_GRID_RULES[order.index(overview.index[0])].action
    one = frame.index[0]
    assert revenue[one] == pytest.approx(run.purchases.loc[run.purchases["customer_id"] == one, "amount"].sum())


# ---- CLV checks --------------------------------------------------------------------------------------------------

def test_holdout_check_matches_the_direct_computation(run) -> None:
    from crm_models.clv import BetaGeoModel, ranking_metrics
    from crm_models.clv.checks import holdout_check
    from crm_models.summary import customer_summary

    check = holdout_check(run.purchases, BetaGeoModel(), observation_end=run.as_of, holdout_weeks=26)
    assert check.calibration_end == run.as_of - pd.Timedelta(weeks=26)
    cal = customer_summary(run.purchases, observation_end=run.as_of, calibration_end=check.calibration_end,
                           time_unit="W")
    model = BetaGeoModel().fit_from_summary(cal)
    predicted = model.expected_purchases(check.duration, cal["frequency"], cal["recency"], cal["T"])
    actual = cal["frequency_holdout"].to_numpy(dtype=float)
    errors = check.errors()
    assert errors["holdout_mae"] == pytest.approx(np.mean(np.abs(predicted - actual)))
    assert errors["holdout_rmse"] == pytest.approx(np.sqrt(np.mean((predicted - actual) ** 2)))
    assert check.actual_total == pytest.approx(actual.sum())
    assert check.relative_error == pytest.approx((np.sum(predicted) - actual.sum()) / actual.sum())
    assert errors["holdout_auc"] == pytest.approx(ranking_metrics(predicted, actual)["auc"])
    assert set(check.lower_is_better) == {"holdout_mae", "holdout_rmse", "holdout_abs_relative_error"}


def test_total_interval_gives_a_reason_instead_of_failing(run, monkeypatch) -> None:
    from crm_models.clv import checks
    from crm_models.exceptions import ConvergenceError

    value = run.table.value
    total, reason = checks.total_interval(value.purchase_model, value.spend_model, value.summary, n_draws=5,
                                          seed=1, **run.value_kwargs)
    assert reason == "" and total["total_lower"] <= total["total_clv"] <= total["total_upper"]

    def boundary(*args, **kwargs):
        raise ConvergenceError("a parameter sits at its boundary. More text")

    monkeypatch.setattr(checks, "clv_interval", boundary)
    assert checks.total_interval(value.purchase_model, value.spend_model, value.summary) == (
        None, "a parameter sits at its boundary")


# ---- migration since an earlier snapshot -------------------------------------------------------------------------

def test_migration_since_compares_with_the_snapshot_days_earlier(run) -> None:
    from crm_models.rfm import migration_flows, migration_matrix, segment_history
    from crm_models.rfm.migration import migration_since

    moved = migration_since(run.purchases, run.as_of, days=90, rules="rfm_grid")
    before = run.as_of - pd.Timedelta(days=90)
    assert moved.before == before and moved.after == run.as_of
    history = segment_history(run.purchases, [before, run.as_of], rules="rfm_grid")
    expected = migration_matrix(history, before, run.as_of, rules="rfm_grid")
    pd.testing.assert_frame_equal(moved.matrix["counts"], expected["counts"])
    assert moved.flows == migration_flows(expected, since=f"{before:%d %B %Y}")
    now = history[history["as_of"] == run.as_of].set_index("customer_id")["segment"]
    assert (now == run.table.frame["segment"].reindex(now.index)).all(), "the latest snapshot is the table's"
    assert migration_since(run.purchases, run.as_of, days=5000) is None, "no customers that long ago"


# ---- champion report ---------------------------------------------------------------------------------------------

def test_report_champion_treats_listed_metrics_as_errors(isolated_mlflow) -> None:
    import mlflow
    from sklearn.dummy import DummyClassifier

    from crm_models.tracking import active_run, log_sklearn_model
    from crm_models.tracking.notebook import report_champion

    X, y = np.zeros((4, 1)), np.array([0, 1, 0, 1])
    results = []
    for mae in (0.5, 0.4):
        with active_run("t"):
            info = log_sklearn_model(DummyClassifier().fit(X, y), "m", registered_model_name="crm_test",
                                     pip_requirements=["scikit-learn"])
        mlflow.end_run()
        results.append(report_champion("crm_test", info.registered_model_version, {"mae": mae, "auc": 0.6},
                                       primary="mae", lower_is_better=["mae"], label="mean absolute error"))
    assert results[1].comparison.attrs["promoted"], "a lower error wins"
    assert "lower is better" in results[1].verdict and "mean absolute error" in results[1].verdict
    assert results[1].markdown("Compared: x.").startswith("## This model against the champion\n\nThis model's")


# ---- suites -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("suite", "currency", "purchase_model"), [("demo", "EUR", "bgnbd"),
                                                                   ("uci_retail", "GBP", "pareto")])
def test_suites_give_every_notebook_one_customer_table(suite, currency, purchase_model) -> None:
    from crm_models.reporting.suite import load_suite

    loaded = load_suite(PROJECT_ROOT / "experiments" / f"{suite}.yaml")
    specs = [s for s in loaded.notebooks if s.name in ("01_rfm_segmentation", "02_clv")]
    assert len(specs) == 2
    folders = {s.parameters["customer_table"] for s in specs}
    assert folders == {f"{PROJECT_ROOT}/data/processed/{loaded.name}/"}
    for spec in specs:
        assert spec.parameters["currency"] == currency and spec.parameters["segment_rules"] == "rfm_grid"
    # the table is built once per run only when every notebook asks for the same settings
    defaults = {}
    import papermill as pm

    for spec in specs:
        declared = {k: v["default"] for k, v in pm.inspect_notebook(str(spec.path)).items()}
        values = {k: _literal(v) for k, v in declared.items()}
        defaults[spec.name] = CustomerTableSettings.from_parameters({**values, **spec.parameters})
    rfm, clv = defaults["01_rfm_segmentation"], defaults["02_clv"]
    assert rfm.to_dict() == clv.to_dict(), (rfm, clv)
    assert rfm.purchase_model == purchase_model and rfm.currency == currency


def _literal(text: str):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def test_processed_data_is_not_committed() -> None:
    out = subprocess.run(["git", "check-ignore", "data/processed/demo/customers.parquet"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, "data/processed/ must be git-ignored (the customer table holds real ids)"
