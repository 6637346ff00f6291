"""The per-run customer table (one row per customer) that every notebook reads shared quantities from.

>>> from crm_models.customers import CustomerTableSettings
>>> CustomerTableSettings(purchase_model="pareto").purchase_model
'pareto'
"""

from crm_models.customers.build import COLUMNS, CustomerTable, build_customer_table
from crm_models.customers.enrich import NEXT_PRODUCT_COLUMNS, next_product_columns
from crm_models.customers.extend import extend_customer_table
from crm_models.customers.settings import CustomerTableSettings
from crm_models.customers.store import (
    activation_export,
    load_or_build_customer_table,
    read_customer_table,
    write_customer_table,
)
from crm_models.customers.tags import TAG_RULES, customer_tags

__all__ = [
    "COLUMNS",
    "NEXT_PRODUCT_COLUMNS",
    "TAG_RULES",
    "CustomerTable",
    "CustomerTableSettings",
    "activation_export",
    "build_customer_table",
    "customer_tags",
    "extend_customer_table",
    "load_or_build_customer_table",
    "next_product_columns",
    "read_customer_table",
    "write_customer_table",
]
