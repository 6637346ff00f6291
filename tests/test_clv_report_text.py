"""Issue 11 item 11: report sentences that name a method come from the fitted model."""

from __future__ import annotations

import json
import re

import pytest

from crm_models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
)
from crm_models.exceptions import NotFittedError

MODELS = {
    BetaGeoModel: {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    ModifiedBetaGeoModel: {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    ParetoNBDModel: {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
    GammaGammaModel: {"p": 6.25, "q": 3.74, "gamma": 15.44},
    ShiftedBetaGeoModel: {"alpha": 0.704, "beta": 1.182},
}
#: every method label a CLV report could name (a sentence must name its own model and no other)
LABELS = ["MBG/NBD", "BG/NBD", "Pareto/NBD", "Gamma-Gamma", "sBG"]


def _names_in(text: str) -> set[str]:
    found = set()
    for label in LABELS:  # "BG/NBD" inside "MBG/NBD" does not count
        if re.search(r"(?<![A-Za-z])" + re.escape(label), text):
            found.add(label)
    return found


def test_fitted_pareto_nbd_sentence_names_pareto_nbd_not_bg_nbd():
    truth = ParetoNBDModel().with_params(**MODELS[ParetoNBDModel])
    x, tx, T = truth.simulate(3_000, T=39.0, seed=5)
    sentence = ParetoNBDModel().fit(x, tx, T).describe()
    assert "Pareto/NBD" in sentence and "Schmittlein" in sentence
    assert "BG/NBD" not in sentence


@pytest.mark.parametrize("model_cls", list(MODELS))
def test_every_model_describes_itself_and_no_other(model_cls):
    sentence = model_cls().with_params(**MODELS[model_cls]).describe()
    assert model_cls.method_name in sentence
    own = {label for label in LABELS if re.search(r"(?<![A-Za-z])" + re.escape(label), model_cls.method_name)}
    assert _names_in(sentence) == own


def test_describe_needs_a_fitted_model():
    with pytest.raises(NotFittedError):
        ParetoNBDModel().describe()


def test_clv_notebook_names_no_method_in_fixed_text():
    """Markdown cells and string literals of notebooks/02_clv.ipynb must not hard-code a method's name: the
    purchase model is a parameter, so the name must come from ``model.describe()`` / ``method_name``."""
    from conftest import PROJECT_ROOT

    notebook = json.loads((PROJECT_ROOT / "notebooks" / "02_clv.ipynb").read_text(encoding="utf-8"))
    offending = []
    for i, cell in enumerate(notebook["cells"]):
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            continue  # the parameter cell's comments list the choices
        if _names_in(text):
            offending.append((i, sorted(_names_in(text))))
    assert not offending, f"cells that hard-code a method name: {offending}"
