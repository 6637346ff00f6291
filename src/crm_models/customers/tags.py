"""Profile tags: short labels a CRM platform can filter on, each from one documented rule."""

from __future__ import annotations

import pandas as pd

TAG_RULES = {
    "one-time buyer": "no repeat purchase yet (frequency 0)",
    "new customer": "first purchase within the last `new_customer_days` days",
    "lapsed": "no purchase in the churn look-back window, so not scored for churn",
    "high value": "CLV at or above the `high_value_quantile` of all customers",
    "high value at risk": "high value and in the high churn-risk tier",
    "likely lost": "probability of being active below 20%",
}


def customer_tags(table: pd.DataFrame, *, high_value_cut: float, new_customer_days: int) -> pd.Series:
    """The tags of each customer, as a ``"; "``-joined string (empty when none applies); see ``TAG_RULES``.

    ``table`` needs ``frequency``, ``age_days``, ``lapsed``, ``clv``, ``risk_tier`` and ``probability_alive``.
    """
    flags = {
        "one-time buyer": table["frequency"].to_numpy() == 0,
        "new customer": table["age_days"].to_numpy() < new_customer_days,
        "lapsed": table["lapsed"].to_numpy(dtype=bool),
        "high value": table["clv"].to_numpy() >= high_value_cut,
        "high value at risk": (table["clv"].to_numpy() >= high_value_cut)
        & (table["risk_tier"].astype(str).to_numpy() == "high"),
        "likely lost": table["probability_alive"].to_numpy() < 0.2,
    }
    names = list(flags)
    rows = zip(*(flags[name] for name in names), strict=True)
    return pd.Series(["; ".join(n for n, hit in zip(names, row, strict=True) if hit) for row in rows],
                     index=table.index, name="tags", dtype=object)
