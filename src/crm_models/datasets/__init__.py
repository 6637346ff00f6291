"""Data sets: the synthetic demo brand and loaders for public formats (Online Retail, CDNOW)."""

from crm_models.datasets.demo import DemoData, make_demo
from crm_models.datasets.demo_transactions import PurchaseTruth
from crm_models.datasets.order_lines import load_online_retail_lines
from crm_models.datasets.public import load_cdnow, load_online_retail

__all__ = ["DemoData", "PurchaseTruth", "load_cdnow", "load_online_retail",
           "load_online_retail_lines", "make_demo"]
