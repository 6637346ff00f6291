"""Time units shared by every module: one definition of a day, a week and a year.

Months are deliberately not a unit: their length varies, so a caller who wants "months" passes an explicit
number of days (for example ``DAYS_PER_YEAR / 12``).
"""

from __future__ import annotations

SECONDS_PER_DAY = 86_400.0
DAYS_PER_WEEK = 7.0
#: mean length of a Gregorian year in days (turns a yearly discount rate into any step)
DAYS_PER_YEAR = 365.2425
TIME_UNITS_IN_DAYS = {"D": 1.0, "W": DAYS_PER_WEEK}


def time_unit_days(time_unit: str | float) -> float:
    """Length of ``time_unit`` in days: ``"D"`` (1), ``"W"`` (7), or an explicit positive number of days."""
    if isinstance(time_unit, int | float) and not isinstance(time_unit, bool):
        if time_unit <= 0:
            raise ValueError(f"time_unit in days must be positive, got {time_unit}")
        return float(time_unit)
    try:
        return TIME_UNITS_IN_DAYS[str(time_unit).upper()]
    except KeyError:
        raise ValueError(
            f"time_unit must be 'D', 'W' or a number of days (months are ambiguous: pass e.g. "
            f"DAYS_PER_YEAR / 12 explicitly), got {time_unit!r}"
        ) from None
