"""The repurchase section's sentences, headline and segment heading on a tiny log checked by hand, with the arm
column under another name than ``variant``.

Mutation classes guarded against (issue 21): "significant" forced or flipped in the headline, every ratio row
reported as "not estimable" (a negated condition), the interval level computed as ``100 / (1 - alpha)``, the
verdict words' case, the ``variant=`` argument not passed on to the read-out, the segment heading's method name
dropped, and the RFM rule set of the default segment replaced by the package default (``rfm_grid``).
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from crm_models.ab.repurchase_report import NO_HISTORY_SEGMENT, repurchase_report, segments_before
from crm_models.rfm.segments import SEED_003_REMAINDER, SEED_003_RULES

START = pd.Timestamp("2024-01-01")


def _day(d: float) -> pd.Timestamp:
    return START + pd.Timedelta(days=d)


def _experiment() -> pd.DataFrame:
    """Four control and four coupon customers assigned on 1 January; the arm column is called ``arm``."""
    return pd.DataFrame({"unit_id": [f"u{i}" for i in range(1, 9)], "arm": ["control"] * 4 + ["coupon"] * 4,
                         "enrolled_at": [START] * 8, "tier": ["a", "b"] * 4})


def _log() -> pd.DataFrame:
    """Control: u1 buys on days 5 (10.0, 1 item) and 10 (30.0, 3 items) and 74, u2 on day 40, u3 never, u4 only
    10 days before assignment. Coupon: u5, u6, u7 on days 1, 2, 20 (40.0/2, 10.0/1, 30.0/2), u8 on day 50."""
    rows = [("u1", 5, 10.0, 1), ("u1", 10, 30.0, 3), ("u1", 74, 5.0, 1), ("u2", 40, 20.0, 1), ("u4", -10, 50.0, 2),
            ("u5", 1, 40.0, 2), ("u6", 2, 10.0, 1), ("u7", 20, 30.0, 2), ("u8", 50, 60.0, 1)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "timestamp": [_day(r[1]) for r in rows],
                         "amount": [r[2] for r in rows], "order_id": [f"o{i}" for i in range(len(rows))],
                         "quantity": [r[3] for r in rows]})


@pytest.fixture  # function scope: mutmut maps a test to the functions it calls, so each test must build its own
def rep():
    return repurchase_report(_experiment(), _log(), segment="tier", min_units=2, variant="arm")


def test_an_arm_column_not_named_variant_reaches_every_part(rep) -> None:
    """``variant="arm"`` must reach the read-out, the curves, the ratios and the segments (a read-out called with
    its default ``variant="variant"`` finds no such column)."""
    assert rep.readout.control == "control"
    assert set(rep.readout.table["arm"]) == {"coupon"}
    assert rep.readout.table.set_index("outcome").loc["purchased_30d", "n_arm"] == 4
    curve = rep.curves.table.set_index("days").loc[30.0]
    assert (curve["arm"], curve["n_control"], curve["n_arm"]) == ("coupon", 4, 4)
    assert (curve["mean_control"], curve["mean_arm"]) == pytest.approx((0.25, 0.75))  # u1 / u5, u6, u7
    assert set(rep.ratios["arm"]) == {"coupon"}
    # tier a: control u1 (day 5) and u3 (never), coupon u5 (day 1) and u7 (day 20)
    tier_a = rep.segments.table.set_index(["segment", "outcome"]).loc[("a", "repurchase within 30 days")]
    assert (tier_a["n_control"], tier_a["n_arm"], tier_a["mean_control"], tier_a["mean_arm"]) == (2, 2, 0.5, 1.0)


def test_headline_says_not_significant_when_no_arm_is(rep) -> None:
    """30-day Kaplan-Meier: coupon 3/4 against control 1/4 (+50 pp), not significant after Holm on 8 units; the
    headline must say so (a forced "significant" would claim a finding)."""
    assert not rep.curves.table["significant"].any()
    assert "coupon +50.0 pp (95% CI " in rep.headline
    assert "not significant after Holm)" in rep.headline
    assert ", significant after Holm" not in rep.headline
    assert "**No arm changed repurchase detectably**" in rep.headline


def _ratio_part(rep, name: str) -> str:
    line = next(s for s in rep.sentences if s.startswith("Per order against control: "))
    return re.search(re.escape(name) + r"[^)]*\)", line).group(0)


def test_ratio_sentence_states_each_estimate_by_hand(rep) -> None:
    """Revenue per order in 30 days: control 40/2 = 20.00, coupon 80/3 = 26.67, so +6.67; items per order
    4/2 = 2 against 5/3, so -0.33. Each part states its 95 % interval (centred on the estimate: the delta method
    is symmetric), the method and "not significant after Holm" in lower case; none is "not estimable"."""
    line = next(s for s in rep.sentences if s.startswith("Per order against control: "))
    assert "not estimable" not in line
    aov = _ratio_part(rep, "revenue per order, 30 days, coupon: ")
    items = "items per order, 30 days, coupon: -0.33 (95% CI "
    assert aov.startswith("revenue per order, 30 days, coupon: +6.67 (95% CI ")
    assert items in line
    low, high = (float(v) for v in re.search(r"CI ([-+][\d.]+) to ([-+][\d.]+)", aov).groups())
    assert (low + high) / 2 == pytest.approx(80 / 3 - 20, abs=0.01)
    assert aov.endswith(", delta method; not significant after Holm)")
    assert line.count("not significant after Holm") == 2


def test_interval_level_follows_alpha_in_every_sentence() -> None:
    """alpha = 0.1 gives 90 % intervals in the headline and the ratio sentence (never 100 / (1 - alpha) = 111)."""
    rep = repurchase_report(_experiment(), _log(), segment="tier", min_units=2, variant="arm", alpha=0.1)
    assert "(90% CI " in rep.headline
    assert "(90% CI " in _ratio_part(rep, "revenue per order, 30 days, coupon: ")
    assert "111% CI" not in " ".join(rep.sentences)


def test_segment_heading_names_the_adjustment(rep) -> None:
    """The heading names the multiplicity method the segment effects used (Holm by default)."""
    assert rep.segment_text().startswith("**Effects by segment** (Holm across segments, Cochran's Q):\n\n")


def test_default_segments_use_the_seed_003_rules() -> None:
    """``segments_before`` labels customers with the seed-003 rules: every label is one of its four rules or its
    remainder (``needs attention``), never a name of the default RFM grid; u4, the only customer with a purchase
    before the start, matches none of the four rules: a lone customer sits at the 50th percentile of R, F
    and M, neither >= 60 nor < 40."""
    seg = segments_before(_log(), START)
    allowed = {r.name for r in SEED_003_RULES} | {SEED_003_REMAINDER}
    assert list(seg.index) == ["u4"] and set(seg) <= allowed
    assert seg["u4"] == SEED_003_REMAINDER
    rep = repurchase_report(_experiment(), _log(), min_units=2, variant="arm")
    labels = set(rep.outcomes.table["rfm_segment"])
    assert labels <= allowed | {NO_HISTORY_SEGMENT}
