"""Issue 21, mutation survivors of ``reporting/parameters``: which parameter names are refused, and what the
error names (the parameter, where it came from, the notebook, its known parameters, the closest match).
Notebooks are written to ``tmp_path`` and inspected by Papermill; no kernel starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from crm_models.exceptions import ConfigurationError
from crm_models.reporting.parameters import check_parameters, notebook_parameters, plain_parameters


def _spec(folder: Path, name: str, declared: str | None, parameters: dict | None = None,
          as_of_parameter: str = "observation_end") -> SimpleNamespace:
    cells = []
    if declared is not None:
        cell = new_code_cell(declared)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(new_code_cell("x = 1"))
    path = folder / f"{name}.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                       "display_name": "Python 3"}}), path)
    return SimpleNamespace(name=name, path=path, parameters=dict(parameters or {}), as_of_parameter=as_of_parameter)


def test_plain_parameters_dates_anywhere_become_iso_strings():
    """Guards against: the datetime / date branches swapped or dropped, nesting not followed."""
    value = {"a": dt.datetime(2024, 6, 30, 12, 30), "b": [dt.date(2024, 1, 2), ("x", dt.date(2024, 1, 3))],
             "c": {"d": dt.date(2024, 2, 29)}, "e": 5, "f": None}
    assert plain_parameters(value) == {"a": "2024-06-30T12:30:00", "b": ["2024-01-02", ["x", "2024-01-03"]],
                                       "c": {"d": "2024-02-29"}, "e": 5, "f": None}


def test_notebook_parameters_are_the_names_of_the_tagged_cell(tmp_path):
    assert notebook_parameters(_spec(tmp_path, "a", "alpha = 1\nobservation_end = None").path) == [
        "alpha", "observation_end"]
    assert notebook_parameters(_spec(tmp_path, "b", None).path) == []


def test_known_names_are_returned_per_notebook(tmp_path):
    a = _spec(tmp_path, "a", "alpha = 1\nobservation_end = None", {"alpha": 2})
    b = _spec(tmp_path, "b", "beta = 1")
    assert check_parameters([a, b], shared=["beta"], overrides=["alpha"]) == {
        "a": ["alpha", "observation_end"], "b": ["beta"]}


def test_misspelt_set_names_the_parameter_the_source_the_notebook_and_the_match(tmp_path):
    """Guards against: the message parts dropped, the one-notebook / many-notebooks wording swapped."""
    a = _spec(tmp_path, "a", "alpha = 1\nobservation_end = None")
    with pytest.raises(ConfigurationError) as info:
        check_parameters([a], overrides=["obsevation_end"])
    text = str(info.value)
    assert "'obsevation_end'" in text and "(--set)" in text and "notebook 'a' (a.ipynb)" in text
    assert "its parameters are alpha, observation_end" in text and "did you mean 'observation_end'?" in text
    b = _spec(tmp_path, "b", "beta = 1")
    with pytest.raises(ConfigurationError, match="for any notebook of the suite: its parameters are alpha, beta, "
                                                 "observation_end$"):
        check_parameters([a, b], overrides=["zzz"])


def test_set_is_accepted_when_one_notebook_declares_it(tmp_path):
    a = _spec(tmp_path, "a", "alpha = 1")
    b = _spec(tmp_path, "b", "beta = 1")
    assert check_parameters([a, b], overrides=["beta", "alpha"])["b"] == ["beta"]


def test_a_notebook_without_a_parameters_cell_says_so(tmp_path):
    with pytest.raises(ConfigurationError, match=r"none \(the notebook has no cell tagged 'parameters'\)"):
        check_parameters([_spec(tmp_path, "a", None)], overrides=["x"])


def test_suite_wide_names_are_judged_against_every_notebook_of_the_suite(tmp_path):
    """Guards against: ``suite_notebooks`` ignored (``--only`` refusing another notebook's setting), or the
    suite-wide check dropped."""
    a = _spec(tmp_path, "a", "alpha = 1")
    other = _spec(tmp_path, "other", "loyalty_rules = None")
    assert check_parameters([a], shared=["loyalty_rules"], suite_notebooks=[a, other]) == {"a": ["alpha"]}
    with pytest.raises(ConfigurationError) as info:
        check_parameters([a], shared=["loyalty_rulez"], suite_notebooks=[a, other])
    text = str(info.value)
    assert "'loyalty_rulez'" in text and "(suite 'parameters')" in text and "any notebook of the suite" in text
    assert "its parameters are alpha, loyalty_rules" in text and "did you mean 'loyalty_rules'?" in text
    with pytest.raises(ConfigurationError, match="loyalty_rules"):
        check_parameters([a], shared=["loyalty_rules"])


def test_a_notebooks_own_parameters_and_its_as_of_parameter(tmp_path):
    """Guards against: shared / --set names checked again per notebook, the as-of parameter not required."""
    a = _spec(tmp_path, "a", "alpha = 1", {"alpha": 1, "beta": 2, "gamma": 3})
    b = _spec(tmp_path, "b", "beta = 1\ngamma = 2")
    assert check_parameters([a, b], shared=["beta"], overrides=["gamma"])["a"] == ["alpha"]
    c = _spec(tmp_path, "c", "alpha = 1", {"alpha": 1, "alpah": 2})
    with pytest.raises(ConfigurationError) as info:
        check_parameters([c])
    text = str(info.value)
    assert "'alpah'" in text and "(its suite entry)" in text and "notebook 'c' (c.ipynb)" in text
    assert "did you mean 'alpha'?" in text
    with pytest.raises(ConfigurationError, match="'report_as_of'.*notebook 'c'"):
        check_parameters([_spec(tmp_path, "c", "alpha = 1", as_of_parameter="report_as_of")], as_of=True)
    d = _spec(tmp_path, "d", "report_as_of = None", as_of_parameter="report_as_of")
    assert check_parameters([d], as_of=True) == {"d": ["report_as_of"]}
