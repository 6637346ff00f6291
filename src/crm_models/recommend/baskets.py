"""Order lines -> baskets: the distinct products bought on each order, as an ibis table on the engine.

A basket is one order (``order_id``); only purchase lines count (positive quantity), so a cancelled or
returned line never makes two products look bought together.
"""

from __future__ import annotations

from typing import Any

from crm_models.data.engine import TableSource, as_ibis_table
from crm_models.exceptions import DataContractError

BASKET_COLUMNS = ("order_id", "product_id")


def basket_items(lines: TableSource, *, backend: Any = None, basket: str = "order_id") -> Any:
    """The distinct ``(basket, product_id)`` pairs of purchase lines, as an ibis table.

    Parameters
    ----------
    lines
        Canonical order lines: a pandas DataFrame, a CSV/Parquet path or an ibis table (used on its own backend).
    backend
        The ibis backend a DataFrame or path is registered with (a new DuckDB connection by default).
    basket
        The column that defines a basket (``order_id``; ``customer_id`` gives one basket per customer).

    Raises
    ------
    DataContractError
        When ``basket`` or ``product_id`` is missing.
    """
    table = purchase_lines(lines, (basket, "product_id"), backend=backend,
                           rule="baskets need a basket id and a product id (read_order_lines maps them)")
    return table.select(basket=table[basket], product_id=table["product_id"]).distinct()


def purchase_lines(lines: TableSource, ids: tuple[str, str], *, backend: Any = None, rule: str) -> Any:
    """The purchase lines of ``lines`` as an ibis table: positive ``quantity`` (when there is such a column) and
    both ``ids`` present.

    Raises ``DataContractError`` naming the first of ``ids`` that is not a column (``rule`` says why it is
    needed).
    """
    table = as_ibis_table(lines, backend)
    columns = list(table.columns)
    for column in ids:
        if column not in columns:
            raise DataContractError(f"order lines lack the column {column!r}; available columns: {columns}",
                                    column=column, rule=rule)
    if "quantity" in columns:
        table = table.filter(table["quantity"] > 0)
    return table.filter(table[ids[0]].notnull() & table[ids[1]].notnull())
