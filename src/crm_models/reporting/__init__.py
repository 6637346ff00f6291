"""Reporting: Papermill suite runner, offline HTML export, landing page and privacy helpers.

Sub-modules are imported on demand, so ``from crm_models.reporting.privacy import pseudonymize`` in a
notebook does not import Papermill or nbconvert.
"""

__all__ = ["privacy"]
