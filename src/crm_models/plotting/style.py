"""One visual style for every chart: colour-blind-safe colours, readable in print.

The palette is Okabe & Ito (2008), "Color Universal Design", distinguishable under the common forms of colour
blindness. Nothing is applied at import: use :func:`report_style` as a context manager, or call
:func:`apply_report_style` explicitly in a notebook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
SEQUENTIAL_CMAP = "cividis"  # perceptually uniform and colour-blind safe
DIVERGING_CMAP = "PuOr"
POSITIVE = "#009E73"
NEGATIVE = "#D55E00"
NEUTRAL = "#7F7F7F"

STYLE: dict[str, Any] = {
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#444444",
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "font.size": 10,
    "legend.frameon": False,
}


def _rc() -> dict[str, Any]:
    from cycler import cycler

    return {**STYLE, "axes.prop_cycle": cycler(color=list(OKABE_ITO))}


def apply_report_style() -> None:
    """Set the report style for the rest of the session (call it in a notebook, never at import)."""
    import matplotlib as mpl

    mpl.rcParams.update(_rc())


@contextmanager
def report_style() -> Iterator[None]:
    """Use the report style inside a ``with`` block only."""
    import matplotlib as mpl

    with mpl.rc_context(_rc()):
        yield


def palette(n: int) -> list[str]:
    """``n`` colours from the Okabe-Ito palette (cycled when ``n`` exceeds it)."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]


def axes_or_new(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax`` when the caller gave one, else the ``Axes`` of a new figure of ``figsize`` (matplotlib is imported
    here, not at module import)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize)
    return new
