"""Markov attribution: exact removal effects against a brute-force walk over all paths of the chain."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import markov_attribution, select_markov_order
from crm_models.attribution.markov import DENSE_PAIR_LIMIT  # noqa: F401  (monkeypatched below)

START, CONV, NULL = "(start)", "(conversion)", "(null)"


def _reference_chain(journeys: pd.DataFrame, order: int) -> dict:
    """Transition probabilities built with plain Python from the definition (independent of the package)."""
    weights: dict = defaultdict(lambda: defaultdict(float))
    for path, conv, null in zip(journeys["path"], journeys["conversions"], journeys["nulls"]):
        channels = [c.strip() for c in path.split(">")]
        if len(channels) < order:
            windows = [tuple(channels)]
        else:
            windows = [tuple(channels[i : i + order]) for i in range(len(channels) - order + 1)]
        merged = [w for i, w in enumerate(windows) if i == 0 or w != windows[i - 1]]
        total = conv + null
        if total == 0:
            continue
        weights[START][merged[0]] += total
        for a, b in pairwise(merged):
            weights[a][b] += total
        weights[merged[-1]][CONV] += conv
        weights[merged[-1]][NULL] += null
    return {s: {t: w / sum(row.values()) for t, w in row.items() if w > 0} for s, row in weights.items()}


def _walk(chain: dict, removed: str | None) -> float:
    """Probability of reaching (conversion): the sum over every path from (start), enumerated depth-first
    (the chain must be acyclic)."""
    total = 0.0
    stack = [(START, 1.0)]
    while stack:
        state, prob = stack.pop()
        for nxt, p in chain[state].items():
            if nxt == CONV:
                total += prob * p
            elif nxt != NULL and not (removed is not None and removed in nxt):
                stack.append((nxt, prob * p))  # removing a channel sends transitions into its states to null
    return total


def _by_path_length(chain: dict, removed: str | None, tol: float = 1e-15) -> float:
    """The same sum for chains with loops, grouped by path length: mass after t steps, until it vanishes."""
    mass = {START: 1.0}
    total = 0.0
    for _ in range(100_000):
        nxt_mass: dict = defaultdict(float)
        for state, m in mass.items():
            for nxt, p in chain[state].items():
                if nxt == CONV:
                    total += m * p
                elif nxt != NULL and not (removed is not None and removed in nxt):
                    nxt_mass[nxt] += m * p
        mass = nxt_mass
        if sum(mass.values()) < tol:
            break
    return total


def _random_journeys(rng: np.random.Generator, n_paths: int, channels: str = "abcd", max_len: int = 6) -> pd.DataFrame:
    paths = [" > ".join(rng.choice(list(channels), rng.integers(1, max_len + 1))) for _ in range(n_paths)]
    frame = pd.DataFrame(
        {"path": paths, "conversions": rng.integers(0, 4, n_paths).astype(float),
         "nulls": rng.integers(0, 6, n_paths).astype(float)}
    )
    frame["value"] = frame["conversions"] * rng.uniform(5, 50, n_paths)
    return frame


@pytest.mark.parametrize("order", [1, 2, 3])
def test_removal_effects_equal_brute_force_over_all_paths(order, rng):
    # channels in a fixed order within every path: the chain is acyclic and all its paths can be listed
    journeys = _random_journeys(rng, 25, channels="abcde", max_len=5)
    journeys["path"] = [" > ".join(sorted(set(p.split(" > ")))) for p in journeys["path"]]
    _check_against(journeys, order, _walk)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_removal_effects_equal_path_sums_on_chains_with_loops(order, rng):
    journeys = _random_journeys(rng, 14, channels="abc", max_len=5)
    _check_against(journeys, order, _by_path_length)


def _check_against(journeys: pd.DataFrame, order: int, brute) -> None:
    result = markov_attribution(journeys, order=order)
    chain = _reference_chain(journeys, order)
    p_full = brute(chain, None)
    assert result.conversion_probability == pytest.approx(p_full, abs=1e-10)
    assert len(result.states) == len(chain) - 1
    for channel in result.credit.index:
        p_without = brute(chain, channel)
        got = result.removal_effects.loc[channel]
        assert got["conversion_probability_without"] == pytest.approx(p_without, abs=1e-10)
        assert got["removal_effect"] == pytest.approx(1 - p_without / p_full, abs=1e-9)


def test_hand_computed_example():
    journeys = pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 0], "nulls": [1, 3, 2]})
    result = markov_attribution(journeys)
    # P = 1/3; without a: 4/9 * 3/7 = 4/21 (RE 3/7); without b: 0 (RE 1)
    assert result.conversion_probability == pytest.approx(1 / 3)
    assert result.removal_effects["removal_effect"].tolist() == pytest.approx([3 / 7, 1.0])
    assert result.credit["conversions"].tolist() == pytest.approx([0.9, 2.1])


def test_fitted_chain_reproduces_observed_conversions_and_rows_sum_to_one(rng):
    journeys = _random_journeys(rng, 60)
    for order in (1, 2, 4):
        result = markov_attribution(journeys, order=order)
        assert result.conversion_probability * result.n_journeys == pytest.approx(journeys["conversions"].sum())
        assert result.value_per_journey * result.n_journeys == pytest.approx(journeys["value"].sum())
        matrix = result.transition_matrix
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
        assert result.credit["conversions"].sum() == pytest.approx(journeys["conversions"].sum())
        assert result.credit["value"].sum() == pytest.approx(journeys["value"].sum())


def test_value_credit_uses_mean_value_of_the_last_state():
    # all value leaves from b; a only assists: with value 10 per conversion everywhere the value shares
    # equal the conversion shares
    journeys = pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 1], "nulls": [1, 3, 2]})
    journeys["value"] = journeys["conversions"] * 10.0
    result = markov_attribution(journeys)
    np.testing.assert_allclose(result.credit["value"] / 10.0, result.credit["conversions"])


def test_deterministic_and_independent_of_row_order(rng):
    journeys = _random_journeys(rng, 200, channels="abcdefg")
    first = markov_attribution(journeys, order=2)
    again = markov_attribution(journeys, order=2)
    shuffled = markov_attribution(journeys.sample(frac=1.0, random_state=1), order=2)
    pd.testing.assert_frame_equal(first.credit, again.credit, check_exact=True)
    pd.testing.assert_frame_equal(first.credit, shuffled.credit, rtol=1e-12)


def test_sparse_state_space_path_matches_dense(rng, monkeypatch):
    from crm_models.attribution import markov

    journeys = _random_journeys(rng, 300, channels="abcdef", max_len=8)
    dense = markov_attribution(journeys, order=3)
    monkeypatch.setattr(markov, "DENSE_PAIR_LIMIT", 10)
    monkeypatch.setattr(markov, "BLOCK_TOKENS", 50)
    sparse = markov_attribution(journeys, order=3)
    assert dense.states == sparse.states
    pd.testing.assert_frame_equal(dense.credit, sparse.credit, rtol=1e-12)


def test_single_channel_and_zero_conversions():
    one = markov_attribution(pd.DataFrame({"path": ["a", "a > a"], "conversions": [3, 1], "nulls": [1, 1]}))
    assert one.credit["conversions"].tolist() == [4.0]
    none = markov_attribution(pd.DataFrame({"path": ["a > b", "b"], "conversions": [0, 0], "nulls": [1, 1]}))
    assert none.credit["conversions"].tolist() == [0.0, 0.0]
    assert none.conversion_probability == 0.0


def test_order_selection_prefers_the_true_first_order_chain(demo_journeys):
    selection = select_markov_order(demo_journeys, orders=(1, 2, 3), n_splits=2, seed=1)
    assert selection.best_order == 1
    assert list(selection.table.index) == [1, 2, 3]
    assert (selection.table["train_loglik"].diff().dropna() >= -1e-9).all()  # more memory fits training better


def test_order_selection_finds_second_order_dependence():
    # the channel after `a` depends on what came before it: only an order >= 2 chain can know that
    rng = np.random.default_rng(11)
    paths = []
    for _ in range(4_000):
        first = rng.choice(["x", "y"])
        paths.append(f"{first} > a > {'b' if first == 'x' else 'c'}")
    frame = pd.DataFrame({"path": paths, "conversions": 1.0, "nulls": 1.0})
    frame = frame.groupby("path", as_index=False).sum()
    selection = select_markov_order(frame, orders=(1, 2), n_splits=2, seed=2)
    assert selection.best_order == 2


@pytest.fixture(scope="module")
def demo_journeys():
    from crm_models.attribution import build_journeys
    from crm_models.datasets.demo_touchpoints import simulate_touchpoints

    rng = np.random.default_rng(7)
    n = 6_000
    customers = pd.DataFrame(
        {"customer_id": [f"c{i:05d}" for i in range(n)], "signup": pd.Timestamp("2024-01-01")}
    )
    touchpoints, _ = simulate_touchpoints(customers, rng, pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31"))
    return build_journeys(touchpoints)


@pytest.mark.parametrize("order", [2, 3])
def test_removal_effects_without_a_factorization_per_channel_match_the_direct_solve(order, rng):
    # a chain with loops and thousands of transitions: every removal is solved by the certified Krylov
    # method (no LU fall-back), and agrees with a sparse LU solve of each restricted system to 1e-9
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    from crm_models.attribution import encode_journeys
    from crm_models.attribution.markov import _decode_states, _solve_chain, chain_counts

    journeys = _random_journeys(rng, 3000, channels="abcdefghij", max_len=12)
    enc = encode_journeys(journeys)
    counts = chain_counts(enc, order)
    solved = _solve_chain(counts, enc.n_channels)
    assert solved["solve_stats"].direct == 0 and solved["solve_stats"].iterative >= enc.n_channels + 1
    assert solved["solve_stats"].max_error_bound <= 1e-11
    a = (sp.identity(len(counts.state_codes), format="csr") - solved["q"]).tocsr()
    digits = _decode_states(counts.state_codes, order, counts.base)
    p_full = float(solved["p0"] @ splu(a.tocsc()).solve(solved["r_conv"]))
    assert solved["p_full"] == pytest.approx(p_full, rel=1e-9)
    for c in range(enc.n_channels):
        keep = np.flatnonzero(~(digits == c).any(axis=1))
        direct = float(solved["p0"][keep] @ splu(a[keep][:, keep].tocsc()).solve(solved["r_conv"][keep]))
        assert solved["p_without"][c] == pytest.approx(direct, rel=1e-9)
        assert 1 - solved["p_without"][c] / solved["p_full"] == pytest.approx(1 - direct / p_full, rel=1e-9, abs=1e-12)


def test_systems_the_krylov_method_cannot_certify_fall_back_to_lu(rng, monkeypatch):
    import crm_models.attribution._absorb as absorb

    journeys = _random_journeys(rng, 400, channels="abcdef", max_len=8)
    expected = markov_attribution(journeys, order=2).removal_effects
    monkeypatch.setattr(absorb, "MAX_ITERATIONS", 1)  # BiCGSTAB stops unconverged: nothing is certified
    from crm_models.attribution import encode_journeys
    from crm_models.attribution.markov import _solve_chain, chain_counts

    counts = chain_counts(encode_journeys(journeys), 2)
    assert _solve_chain(counts, 6)["solve_stats"].direct >= 6
    pd.testing.assert_frame_equal(markov_attribution(journeys, order=2).removal_effects, expected, rtol=1e-9)
