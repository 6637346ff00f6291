"""crm_models: a workbench for customer analytics.

Importing the package has no side effects: no logging set-up, no warning filters, no plot styles.
Sub-packages are imported on demand (``from crm_models.clv import BetaGeoModel``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
