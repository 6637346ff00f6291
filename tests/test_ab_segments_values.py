"""Effects by segment and Cochran's Q by hand (issue 21, mutation testing of ``ab/segments``).

Cochran (1954): ``w_s = 1/se_s^2``, ``d = sum w d_s / sum w``, ``Q = sum w (d_s - d)^2 ~ chi^2(S - 1)``;
Higgins & Thompson (2002) eq. 10: ``I^2 = max(0, (Q - df) / Q)``.

Data: segment a has control 30/100 and arm 60/100 (+30 pp), segment b 30/100 and 30/100 (0 pp), segment c
10 units per arm (too few at ``min_units = 30``). Wald se: a sqrt(.21/100 + .24/100) = sqrt(.0045),
b sqrt(.0042).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models.ab import heterogeneity_test, segment_effects
from crm_models.ab.effects import proportion_effect
from crm_models.exceptions import DataContractError

Z95 = 1.959963984540054


def _units(n: int, x: int) -> list[int]:
    return [1] * x + [0] * (n - x)


def _data(spec: dict | None = None) -> pd.DataFrame:
    spec = spec or {"a": (100, 30, 100, 60), "b": (100, 30, 100, 30), "c": (10, 2, 10, 5)}
    rows = []
    for seg, (nc, xc, nt, xt) in spec.items():
        rows += [{"variant": "control", "seg": seg, "converted": v} for v in _units(nc, xc)]
        rows += [{"variant": "B", "seg": seg, "converted": v} for v in _units(nt, xt)]
    return pd.DataFrame(rows)


def test_cochran_q_two_segments_by_hand():
    """0.1 and 0.3 with se 0.1: pooled 0.2, Q = 2, df 1, p = 2 (1 - Phi(sqrt 2)), I^2 = 0.5."""
    h = heterogeneity_test([0.1, 0.3], [0.1, 0.1])
    assert h["pooled"] == pytest.approx(0.2) and h["q"] == pytest.approx(2.0) and h["df"] == 1.0
    assert h["p_value"] == pytest.approx(2 * stats.norm.sf(math.sqrt(2)), rel=1e-9)
    assert h["i2"] == pytest.approx(0.5)


def test_cochran_q_three_segments_with_unequal_weights_by_hand():
    """0, 0.2, 0.5 with se 0.1, 0.2, 0.1: w = 100, 25, 100, pooled 55/225, Q ~ chi^2(2): p = exp(-Q/2)."""
    h = heterogeneity_test([0.0, 0.2, 0.5], [0.1, 0.2, 0.1])
    pooled = 55 / 225
    q = 100 * pooled**2 + 25 * (0.2 - pooled) ** 2 + 100 * (0.5 - pooled) ** 2
    assert h["pooled"] == pytest.approx(pooled) and h["q"] == pytest.approx(q) and h["df"] == 2.0
    assert h["p_value"] == pytest.approx(math.exp(-q / 2), rel=1e-9)
    assert h["i2"] == pytest.approx((q - 2) / q)


def test_cochran_q_edges():
    """Equal estimates: Q = 0 and I^2 = 0 (not 0/0); Q below df: I^2 clipped at 0; unusable segments left out."""
    same = heterogeneity_test([0.2, 0.2], [0.1, 0.3])
    assert same["q"] == 0.0 and same["i2"] == 0.0 and same["p_value"] == pytest.approx(1.0)
    low = heterogeneity_test([0.1, 0.12, 0.11], [0.1, 0.1, 0.1])
    assert low["q"] < 2 and low["i2"] == 0.0
    dropped = heterogeneity_test([0.1, 0.3, np.nan, 5.0, 7.0, 9.0], [0.1, 0.1, 0.1, 0.0, -1.0, np.inf])
    assert dropped["df"] == 1.0 and dropped["q"] == pytest.approx(2.0)
    one = heterogeneity_test([0.1], [0.1])
    assert one["df"] == 0.0 and all(math.isnan(one[k]) for k in ("q", "p_value", "i2", "pooled"))
    assert heterogeneity_test([], [])["df"] == 0.0


def test_segment_table_by_hand():
    res = segment_effects(_data(), "seg")
    t = res.table.set_index("segment")
    assert t.index.tolist() == ["a", "b", "c"]
    assert (t["outcome"] == "converted").all() and (t["arm"] == "B").all() and (t["kind"] == "proportion").all()
    assert t["n_control"].tolist() == [100, 100, 10] and t["n_arm"].tolist() == [100, 100, 10]
    a = proportion_effect(np.array(_units(100, 30)), np.array(_units(100, 60)))
    assert t.loc["a", "abs_effect"] == pytest.approx(0.3) and t.loc["a", "abs_se"] == pytest.approx(math.sqrt(0.0045))
    assert (t.loc["a", "ci_low"], t.loc["a", "ci_high"]) == pytest.approx((a.ci_low, a.ci_high))
    assert t.loc["a", "p_value"] == pytest.approx(a.p_value)
    assert (t.loc["a", "mean_control"], t.loc["a", "mean_arm"]) == pytest.approx((0.3, 0.6))
    assert t.loc["a", "method"] == "newcombe" and t.loc["a", "primary"] == "newcombe"
    # relative lift 0.6 / 0.3 - 1 = 1 with the delta method on s^2 / n (ddof 1)
    vc, vt = 0.21 * 100 / 99 / 100, 0.24 * 100 / 99 / 100
    se = math.sqrt(vt / 0.09 + 0.36 * vc / 0.3**4)
    assert t.loc["a", "rel_effect"] == pytest.approx(1.0)
    assert (t.loc["a", "rel_ci_low"], t.loc["a", "rel_ci_high"]) == pytest.approx((1 - Z95 * se, 1 + Z95 * se))
    # c: too few units, reported but not tested and not in the Holm family (m = 2)
    assert t.loc["c", "method"] == "too few units" and math.isnan(t.loc["c", "p_value"])
    assert math.isnan(t.loc["c", "p_holm"]) and not t.loc["c", "significant"]
    assert t.loc["a", "p_holm"] == pytest.approx(2 * a.p_value) and t.loc["b", "p_holm"] == 1.0
    assert t.loc["a", "p_bh"] == pytest.approx(2 * a.p_value)
    assert t["significant"].tolist() == [True, False, False]


def test_heterogeneity_row_and_verdict_by_hand():
    res = segment_effects(_data(), "seg")
    h = res.heterogeneity.iloc[0]
    wa, wb = 1 / 0.0045, 1 / 0.0042
    pooled = wa * 0.3 / (wa + wb)
    q = wa * (0.3 - pooled) ** 2 + wb * pooled**2
    assert (h["outcome"], h["arm"], h["segments_tested"]) == ("converted", "B", 2)
    assert h["q"] == pytest.approx(q) and h["pooled"] == pytest.approx(pooled)
    assert h["p_value"] == pytest.approx(2 * stats.norm.sf(math.sqrt(q)))
    v = res.verdict
    assert v.startswith("- **B** on converted by seg: the effect differs across segments")
    assert f"Cochran's Q = {q:.1f} on 1 df, p = {h['p_value']:.3g}" in v
    assert "Significant after Holm: a (+30.0 pp, 95% CI +16.3 pp to +42.2 pp)." in v
    assert "Not significant: b (+0.0 pp, 95% CI -12.6 pp to +12.6 pp)." in v
    assert (res.segment, res.control, res.adjust, res.alpha) == ("seg", "control", "holm", 0.05)


def test_segments_at_exactly_min_units_are_tested():
    """min_units = 10: segment c (10 per arm) is tested (guards ``<`` against ``<=``); min_units 11: it is not."""
    t = segment_effects(_data(), "seg", min_units=10).table.set_index("segment")
    assert t.loc["c", "method"] == "newcombe"
    t = segment_effects(_data(), "seg", min_units=11).table.set_index("segment")
    assert t.loc["c", "method"] == "too few units"
    # the default is 30: a segment of 30 per arm is tested, of 29 not
    t = segment_effects(_data({"a": (30, 10, 30, 20), "b": (29, 10, 29, 20)}), "seg").table.set_index("segment")
    assert t.loc["a", "method"] == "newcombe" and t.loc["b", "method"] == "too few units"


def test_no_evidence_of_difference_and_bh():
    """Equal +30 pp in both segments: Q = 0, the verdict says to read the overall effect; with BH the
    significant segments are listed in brackets, at the stated confidence."""
    data = _data({"a": (100, 30, 100, 60), "b": (100, 30, 100, 60)})
    res = segment_effects(data, "seg", adjust="bh", alpha=0.1)
    assert res.heterogeneity.iloc[0]["q"] == pytest.approx(0.0)
    assert "no evidence that the effect differs across segments" in res.verdict
    assert "Read the overall effect." in res.verdict
    assert "(Significant within a segment after Benjamini-Hochberg: a (+30.0 pp, 90% CI" in res.verdict
    assert res.table["significant"].tolist() == [True, True]


def test_bh_decides_significance_when_asked():
    """Segments with p 0.034 and 0.041: Holm gives 0.069 to both (rejects neither), BH 0.041 to both (rejects both)."""
    data = _data({"a": (400, 100, 400, 127), "b": (400, 100, 400, 126)})
    holm_res = segment_effects(data, "seg", adjust="holm")
    bh_res = segment_effects(data, "seg", adjust="bh")
    p = holm_res.table["p_value"].to_numpy()
    assert (p < 0.05).all() and (2 * p.min() > 0.05)
    assert not holm_res.table["significant"].any()
    assert bh_res.table["significant"].all()


def test_fewer_than_two_segments_and_missing_segment_values():
    data = _data({"a": (100, 30, 100, 60), "b": (5, 1, 5, 2)})
    data["seg"] = data["seg"].astype(object).where(data["seg"] == "a", None)
    res = segment_effects(data, "seg")
    assert res.table["segment"].tolist() == ["(missing)", "a"]
    assert "fewer than two segments with enough units; no comparison across segments." in res.verdict


def test_means_use_welch_and_a_plain_number_format():
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"variant": np.repeat(["control", "B"], 80), "seg": np.tile(["x", "y"], 80),
                         "revenue": rng.normal(100, 10, 160).round(2)})
    res = segment_effects(data, "seg", outcomes="revenue")
    t = res.table
    assert (t["kind"] == "mean").all() and (t["method"] == "welch").all()
    sub = data[data["seg"] == "x"]
    ref = stats.ttest_ind(sub.loc[sub.variant == "B", "revenue"], sub.loc[sub.variant == "control", "revenue"],
                          equal_var=False)
    assert t.iloc[0]["p_value"] == pytest.approx(ref.pvalue)
    assert " pp" not in res.verdict


def test_clustered_segments_use_the_delta_method_over_clusters():
    data = _data({"a": (40, 10, 40, 20), "b": (40, 10, 40, 12)})
    data["hh"] = [f"h{i // 2}" for i in range(len(data))]  # pairs of units, never across arms
    t = segment_effects(data, "seg", cluster="hh").table
    assert (t["method"] == "delta (clustered)").all()
    y = data.loc[(data.seg == "a") & (data.variant == "control"), "converted"].to_numpy(float)
    g = data.loc[(data.seg == "a") & (data.variant == "control"), "hh"].to_numpy()
    sums = pd.Series(y).groupby(g).sum().to_numpy()
    var_c = np.var(sums, ddof=1) / sums.size / 2**2  # clusters of two units: mean(Y) = 2
    assert t.iloc[0]["abs_se"] ** 2 > var_c  # plus the arm's variance
    assert t.iloc[0]["abs_effect"] == pytest.approx(0.25)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="adjust"):
        segment_effects(_data(), "seg", adjust="bonferroni")
    with pytest.raises(DataContractError) as info:
        segment_effects(_data(), "nope")
    assert info.value.column == "nope"
    bad = _data().astype({"converted": float})
    bad.loc[3, "converted"] = np.nan
    with pytest.raises(DataContractError, match="outcome 'converted'") as info:
        segment_effects(bad, "seg")
    assert info.value.column == "converted"


def test_verdict_lines_per_outcome_and_arm_with_two_outcomes_and_a_small_arm():
    """Arm A has 5 units per segment (no comparison) and comes first; arm B has the hand case on ``converted`` and
    +10 in segment a on ``revenue``. Each line describes only its own (outcome, arm) rows (guards ``&`` against
    ``|`` and ``continue`` against ``break``), and a mean is written as a plain number, not in pp."""
    base = _data({"a": (100, 30, 100, 60), "b": (100, 30, 100, 30)})
    base["revenue"] = [10.0 + i % 5 for i in range(len(base))]
    base.loc[(base["seg"] == "a") & (base["variant"] == "B"), "revenue"] += 10.0
    small = pd.DataFrame({"variant": "A", "seg": ["a"] * 5 + ["b"] * 5, "converted": [0, 1] * 5,
                          "revenue": [10.0, 12.0] * 5})
    res = segment_effects(pd.concat([base, small], ignore_index=True), "seg", outcomes=["converted", "revenue"])
    lines = res.verdict.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("- **A** on converted by seg: fewer than two segments")
    assert lines[2].startswith("- **A** on revenue by seg: fewer than two segments")
    conv, rev = lines[1], lines[3]
    assert conv.startswith("- **B** on converted by seg: the effect differs")
    assert "Significant after Holm: a (+30.0 pp, 95% CI +16.3 pp to +42.2 pp)." in conv
    assert "Not significant: b (+0.0 pp, 95% CI -12.6 pp to +12.6 pp)." in conv
    assert "+10" not in conv
    assert rev.startswith("- **B** on revenue by seg: the effect differs")
    assert "Significant after Holm: a (+10, 95% CI +9.6 to +10.4). Not significant: b (+0, 95% CI" in rev
    assert " pp" not in rev
