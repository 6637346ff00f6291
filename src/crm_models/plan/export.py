"""Write the plan's files beside the run's customer table (real customer ids, so never under ``reports/``).

``plan_activation.csv`` holds the rows of :func:`crm_models.plan.plan_activation` (what the CRM platform sends,
with the holdout flag) and ``plan_tags.csv`` the customers tagged by :func:`crm_models.plan.price_sensitive_tags`.
The customer table's own ``activation.csv`` (segment actions) is left as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crm_models.customers.run import check_table_folder
from crm_models.data.files import atomic_write_csv
from crm_models.exceptions import ConfigurationError

PLAN_ACTIVATION_FILE = "plan_activation.csv"
PLAN_TAGS_FILE = "plan_tags.csv"


def write_plan_files(folder: str | os.PathLike[str], activation: pd.DataFrame, tags: pd.Series) -> dict[str, Path]:
    """Write ``activation`` and the non-empty ``tags`` (``customer_id``, ``plan_tags``) into ``folder``, each
    through a temporary file and a rename (a reader never sees half a file). Refuses a folder under the
    project's ``reports/`` (:func:`crm_models.customers.run.check_table_folder`). Returns the paths by name."""
    target = check_table_folder(folder)
    if target is None:
        raise ConfigurationError("no folder given for the plan's files (customer_table is not set)")
    tagged = tags[tags.astype(str) != ""].rename("plan_tags").rename_axis("customer_id").reset_index()
    paths = {"activation": target / PLAN_ACTIVATION_FILE, "tags": target / PLAN_TAGS_FILE}
    atomic_write_csv(paths["activation"], activation)
    atomic_write_csv(paths["tags"], tagged)
    return paths
