"""scripts/mutation.py: the mutant sample is seeded and the score interval is Wilson's (Wilson 1927)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mutation.py"


@pytest.fixture(scope="module")
def mutation():
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sample_is_the_same_for_the_same_seed_and_ignores_the_input_order(mutation):
    names = [f"m.x_f__mutmut_{i}" for i in range(100)]
    first = mutation.draw_sample(names, 10, seed=3)
    assert first == mutation.draw_sample(list(reversed(names)), 10, seed=3)
    assert len(set(first)) == 10 and set(first) <= set(names)
    assert first != mutation.draw_sample(names, 10, seed=4)


def test_a_sample_larger_than_the_family_takes_every_mutant(mutation):
    assert mutation.draw_sample(["b", "a"], 5, seed=0) == ["b", "a"]


def test_wilson_interval_matches_the_hand_computed_value(mutation):
    # 17 of 20: p = 0.85, z = 1.959964; centre = (0.85 + z^2/40) / (1 + z^2/20) = 0.7936...,
    # half-width = z * sqrt(0.85*0.15/20 + z^2/1600) / (1 + z^2/20) = 0.1540... -> [64.0, 94.8]
    assert mutation.wilson_interval(17, 20) == (64.0, 94.8)
    low, high = mutation.wilson_interval(20, 20)
    assert high == 100.0 and 80.0 < low < 85.0  # 83.9: a perfect sample of 20 does not prove 85 %


def test_sample_and_only_cannot_be_combined(mutation, tmp_path):
    with pytest.raises(SystemExit):
        mutation.main(["summary", "--sample", "5", "--only", str(tmp_path / "x.txt")])


def test_wider_fixture_scopes_become_function_scope_and_nothing_else_changes(mutation):
    source = '''@pytest.fixture(scope="module")
def a(): ...
@pytest.fixture(autouse=True, scope='session')
def b(): ...
@pytest.fixture(scope="class", params=[1, 2])
def c(request): ...
@pytest.fixture
def d(): ...
@pytest.fixture(scope="function")
def e(): ...
x = dict(scope="module")
'''
    out = mutation.function_scoped(source)
    assert "@pytest.fixture()\ndef a" in out
    assert "@pytest.fixture(autouse=True, )\ndef b" in out
    assert "@pytest.fixture(params=[1, 2])\ndef c" in out
    assert "@pytest.fixture\ndef d" in out and '@pytest.fixture(scope="function")\ndef e' in out
    assert 'x = dict(scope="module")' in out  # only fixture decorators are touched
    compile(out, "<rescoped>", "exec")
