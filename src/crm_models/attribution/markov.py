"""Exact Markov-chain attribution of any order (removal effects by absorbing-chain linear algebra).

Model (Anderl, Becker, von Wangenheim & Schumann 2016, "Mapping the customer journey: lessons learned
from graph-based online attribution modeling", International Journal of Research in Marketing 33(3),
457-474, who also use higher orders):

* the states of an order-``k`` chain are sliding windows of ``k`` consecutive channels of a path (a path
  shorter than ``k`` is one state); consecutive identical states are merged;
* ``(start)`` links to the first state, each state to the next, and the last state to ``(conversion)``
  (weight: the path's conversions) and ``(null)`` (weight: its non-converting journeys); internal
  transitions are weighted by conversions plus nulls; probabilities are the row-normalized weights.

With ``Q`` the transition probabilities among transient states and ``r`` the one-step probabilities of
reaching ``(conversion)``, the probability of eventually converting from each state solves
``(I - Q) x = r`` (absorption probabilities of an absorbing chain; Kemeny & Snell 1960, "Finite Markov Chains", ch. 3), and
the conversion probability of a journey is ``P = p0 . x`` with ``p0`` the start distribution. Removing
channel ``c`` sends every transition into a state that contains ``c`` to ``(null)``: ``x_s = 0`` on those
states and the rest solves the restricted system, giving ``P_-c``. The removal effect is
``RE_c = 1 - P_-c / P`` (Anderl et al. 2016) and the credit
``credit_c = RE_c / sum_d RE_d * total conversions``.

Value: every conversion's value is taken as the mean value of the conversions that leave from the same
last state, ``v_s``; the expected value from each state solves ``(I - Q) y = r * v`` and the value
removal effects and credits follow in the same way. Nothing is simulated. ``P`` and the expected value
are both ``p0' (I - Q)^-1 R`` for a reward column ``R``, so one adjoint solve (the expected visits of
every state) serves both, for the full chain and for each removed channel. Before solving, states that
journeys only pass through are eliminated once (Gaussian elimination, each entry remembering which
channels its path went through, so the same reduced chain serves every removal); each system is
solved by a Krylov method whose error is certified (``||residual||_1 * max reward per exit``), falling
back to a sparse LU factorization when the bound is not met; no factorization per channel is needed
(see :mod:`crm_models.attribution._absorb`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crm_models.attribution._absorb import RemovalSolver
from crm_models.attribution.journeys import (
    CONVERSION_STATE,
    NULL_STATE,
    OUTPUT_SEPARATOR,
    START_STATE,
    EncodedJourneys,
    encode_journeys,
)

BLOCK_TOKENS = 200_000  # touches per vectorized block (cache-sized)
DENSE_PAIR_LIMIT = 1 << 20  # transition weights kept in a dense bincount array up to this many cells (8 MB)
LOOKUP_CODES = 1 << 24  # window codes mapped to states through a lookup table up to this many codes


@dataclass
class ChainCounts:
    """Weighted transition counts of an order-``k`` chain, states identified by window codes."""

    order: int
    base: int
    state_codes: np.ndarray  # sorted window codes of the states (dense id = position)
    pair_from: np.ndarray  # dense ids
    pair_to: np.ndarray
    pair_weight: np.ndarray
    start: np.ndarray  # per state: weight of (start) -> state
    conversions: np.ndarray  # per state: weight of state -> (conversion)
    nulls: np.ndarray  # per state: weight of state -> (null)
    value: np.ndarray  # per state: value of conversions leaving from it


def _window_codes(
    codes1: np.ndarray, offsets: np.ndarray, order: int, base: int
) -> tuple[np.ndarray, np.ndarray]:
    """Window code of every state of each path (before merging) and the number of windows per path.

    ``codes1`` are channel codes shifted to ``1..K`` so that 0 pads paths shorter than the order. The
    code of the window starting at touch ``i`` is ``sum_j codes1[i + j] * base ** (order - 1 - j)``,
    computed with contiguous slices for all touches at once; windows that would run past their path's
    end are dropped, and a path shorter than the order gets one zero-padded window.
    """
    lengths = np.diff(offsets)
    if order == 1:
        return codes1.astype(np.int64), lengths
    n_tokens = len(codes1)
    padded = np.zeros(n_tokens + order, dtype=codes1.dtype)
    padded[:n_tokens] = codes1
    code = padded[:n_tokens] * base ** (order - 1)
    for j in range(1, order):
        code += padded[j : j + n_tokens] * base ** (order - 1 - j)
    valid = np.ones(n_tokens, dtype=bool)
    ends = offsets[1:]
    for j in range(1, order):
        has = lengths >= j
        valid[ends[has] - j] = False  # windows starting in the last order-1 touches run past the end
    short = np.flatnonzero((lengths < order) & (lengths > 0))
    if short.size:
        # the window at the start of a short path ran into the next path: keep its first `length` digits
        starts = offsets[:-1][short]
        powers = (base ** np.arange(order + 1)).astype(code.dtype)[order - lengths[short]]
        code[starts] = code[starts] // powers * powers
        valid[starts] = True
    return code[valid], np.maximum(lengths - order + 1, 1)


def _block_counts(
    codes: np.ndarray, offsets: np.ndarray, conv: np.ndarray, null: np.ndarray, value: np.ndarray,
    order: int, base: int,
) -> tuple[np.ndarray, ...]:
    """Merged-state transitions of one block of paths: (first, last, pair keys, pair weights).

    Pair keys are ``from_code * base + last digit of to_code``: the next window of a path is the
    previous one shifted by one touch, so its last channel is all a pair adds (``n_codes * base`` keys
    instead of ``n_codes ** 2``; ``to_code = key % n_codes``). The pair that would cross from one path
    to the next gets the dummy key ``n_codes * base``.
    """
    n_codes = base**order
    n_keys = n_codes * base
    weight = conv + null
    if order == 1:
        wcode = codes.astype(np.int32 if n_keys < 2**31 - 1 else np.int64)
        wcode += 1
        n_windows = np.diff(offsets)
    else:
        small = n_keys < 2**31 - 1  # window codes and pair keys fit 32 bits: half the memory traffic
        wcode, n_windows = _window_codes(codes.astype(np.int32 if small else np.int64) + 1, offsets, order, base)
    wfirst = np.cumsum(n_windows) - n_windows
    # merge consecutive identical states within a path
    keep = np.empty(len(wcode), dtype=bool)
    keep[0] = True
    np.not_equal(wcode[1:], wcode[:-1], out=keep[1:])
    keep[wfirst] = True
    merged = wcode[keep]
    position = np.cumsum(keep) - 1
    mfirst = position[wfirst]
    mlast = position[wfirst + n_windows - 1]
    first_code = merged[mfirst]
    last_code = merged[mlast]
    key = merged[:-1] * base
    key += merged[1:] % base
    key[mlast[:-1]] = n_keys  # the dummy key
    if len(weight) and weight.min() == weight.max():  # one weight for all (e.g. one row per journey)
        return first_code, last_code, key, float(weight[0])
    pair_weight = np.repeat(weight, mlast - mfirst + 1)[:-1]
    return first_code, last_code, key, pair_weight


def chain_counts(enc: EncodedJourneys, order: int = 1) -> ChainCounts:
    """Aggregate the weighted transitions of the order-``order`` chain of ``enc``.

    Vectorized over blocks of about ``BLOCK_TOKENS`` touches (cache-sized blocks run several times
    faster than one pass over everything, and bound the memory).
    """
    if int(order) != order or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    order = int(order)
    n_channels = enc.n_channels
    base = n_channels + 1
    if np.log(base) * (order + 1) >= np.log(2**62):  # pair keys run up to base ** (order + 1)
        raise ValueError(f"order {order} with {n_channels} channels is too large for window codes")
    n_codes = base**order
    n_keys = n_codes * base  # pair keys (see _block_counts)
    dense = n_keys + 1 <= DENSE_PAIR_LIMIT
    offsets = enc.offsets
    n_paths = enc.n_paths
    block_tokens = max(BLOCK_TOKENS, n_keys // 8) if dense else BLOCK_TOKENS

    # per-code tables only on the dense path: the sparse path exists for state spaces too large to tabulate
    # (base ** order codes; e.g. 3 ** 38 at the largest order 2 channels allow), and counts per state instead
    size = n_codes if dense else 0
    start = np.zeros(size)
    conv = np.zeros(size)
    null = np.zeros(size)
    val = np.zeros(size)
    pairs = np.zeros(n_keys + 1) if dense else None
    sparse_keys: list[np.ndarray] = []
    sparse_weights: list[np.ndarray] = []
    firsts: list[np.ndarray] = []
    lasts: list[np.ndarray] = []
    present_codes: list[np.ndarray] = []
    lo = 0
    while lo < n_paths:
        hi = int(np.searchsorted(offsets, offsets[lo] + block_tokens, side="right")) - 1
        hi = min(max(hi, lo + 1), n_paths)
        offs = offsets[lo : hi + 1] - offsets[lo]
        first_code, last_code, key, pair_weight = _block_counts(
            enc.codes[offsets[lo] : offsets[hi]], offs, enc.conversions[lo:hi], enc.nulls[lo:hi],
            enc.value[lo:hi], order, base,
        )
        if dense:
            start += np.bincount(first_code, weights=enc.conversions[lo:hi] + enc.nulls[lo:hi], minlength=n_codes)
            conv += np.bincount(last_code, weights=enc.conversions[lo:hi], minlength=n_codes)
            null += np.bincount(last_code, weights=enc.nulls[lo:hi], minlength=n_codes)
            val += np.bincount(last_code, weights=enc.value[lo:hi], minlength=n_codes)
            if isinstance(pair_weight, float):
                pairs += pair_weight * np.bincount(key, minlength=n_keys + 1)
            else:
                pairs += np.bincount(key, weights=pair_weight, minlength=n_keys + 1)
        else:
            if isinstance(pair_weight, float):
                pair_weight = np.full(len(key), pair_weight)
            keep = (key != n_keys) & (pair_weight > 0)
            uniq, inverse = np.unique(key[keep], return_inverse=True)
            sparse_keys.append(uniq)
            sparse_weights.append(np.bincount(inverse, weights=pair_weight[keep], minlength=len(uniq)))
            weighted = (enc.conversions[lo:hi] + enc.nulls[lo:hi]) > 0
            firsts.append(first_code)
            lasts.append(last_code)
            present_codes.append(np.unique(np.concatenate([first_code[weighted], last_code[weighted]])))
        lo = hi

    if dense:
        pairs = pairs[:-1]
        nz = np.flatnonzero(pairs)
        pair_from_code, pair_to_code, pair_w = nz // base, nz % n_codes, pairs[nz]
        present = (start + conv + null) > 0
        present[pair_from_code] = True
        present[pair_to_code] = True
        state_codes = np.flatnonzero(present).astype(np.int64)
        dense_id = np.full(n_codes, -1, dtype=np.int64)
        dense_id[state_codes] = np.arange(len(state_codes))
        return ChainCounts(
            order, base, state_codes, dense_id[pair_from_code], dense_id[pair_to_code], pair_w,
            start[state_codes], conv[state_codes], null[state_codes], val[state_codes],
        )

    keys = np.concatenate(sparse_keys) if sparse_keys else np.zeros(0, np.int64)
    weights = np.concatenate(sparse_weights) if sparse_weights else np.zeros(0)
    keys, inverse = np.unique(keys, return_inverse=True)
    weights = np.bincount(inverse, weights=weights, minlength=len(keys))
    first_all = np.concatenate(firsts).astype(np.int64)
    last_all = np.concatenate(lasts).astype(np.int64)
    state_codes = np.unique(np.concatenate([*present_codes, keys // base, keys % n_codes]).astype(np.int64))
    n_states = len(state_codes)
    pair_from_code, pair_to_code = keys // base, keys % n_codes
    if n_codes <= LOOKUP_CODES:  # a code -> state table beats binary searches over millions of paths
        lookup = np.zeros(n_codes, dtype=np.int64)  # paths without weight may point at no state: id 0
        lookup[state_codes] = np.arange(n_states)
        fid, lid = lookup[first_all], lookup[last_all]
        pair_from, pair_to = lookup[pair_from_code], lookup[pair_to_code]
    else:
        # paths without weight may point at no state: their (zero) weight goes anywhere in range
        fid = np.minimum(np.searchsorted(state_codes, first_all), max(n_states - 1, 0))
        lid = np.minimum(np.searchsorted(state_codes, last_all), max(n_states - 1, 0))
        pair_from, pair_to = np.searchsorted(state_codes, pair_from_code), np.searchsorted(state_codes, pair_to_code)
    return ChainCounts(
        order, base, state_codes.astype(np.int64), pair_from, pair_to, weights,
        np.bincount(fid, weights=enc.conversions + enc.nulls, minlength=n_states),
        np.bincount(lid, weights=enc.conversions, minlength=n_states),
        np.bincount(lid, weights=enc.nulls, minlength=n_states),
        np.bincount(lid, weights=enc.value, minlength=n_states),
    )


def _decode_states(state_codes: np.ndarray, order: int, base: int) -> np.ndarray:
    """Channel codes (0-based, -1 for padding) of every state, shape ``(n_states, order)``."""
    digits = np.empty((len(state_codes), order), dtype=np.int64)
    rest = state_codes.copy()
    for j in range(order - 1, -1, -1):
        digits[:, j] = rest % base
        rest //= base
    return digits - 1


@dataclass
class MarkovAttribution:
    """Result of :func:`markov_attribution`.

    Attributes
    ----------
    order:
        Order of the chain.
    credit:
        Frame indexed by channel: ``conversions`` and ``value`` credited (non-negative, summing to the
        totals).
    removal_effects:
        Frame indexed by channel: ``removal_effect`` (relative drop of the conversion probability when
        the channel is removed), ``conversion_probability_without``, ``value_removal_effect`` and
        ``value_per_journey_without``.
    conversion_probability:
        Probability that a journey converts, from the fitted chain (equals conversions / journeys).
    value_per_journey:
        Expected conversion value per journey from the fitted chain.
    states:
        State labels (channels of the window joined by ``" > "``).
    transitions:
        Long frame ``from``, ``to``, ``weight``, ``probability`` over all transitions, including the
        ``(start)``, ``(conversion)`` and ``(null)`` states.
    total_conversions, total_value, n_journeys:
        Totals of the input.
    """

    order: int
    credit: pd.DataFrame
    removal_effects: pd.DataFrame
    conversion_probability: float
    value_per_journey: float
    states: list[str]
    transitions: pd.DataFrame
    total_conversions: float
    total_value: float
    n_journeys: float
    _dense: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def transition_matrix(self) -> pd.DataFrame:
        """Dense transition probabilities: rows ``(start)`` and every state, columns the states plus
        ``(conversion)`` and ``(null)``. Built on first access; large for high orders."""
        if self._dense is None:
            rows = [START_STATE, *self.states]
            cols = [*self.states, CONVERSION_STATE, NULL_STATE]
            table = self.transitions.pivot_table(
                index="from", columns="to", values="probability", aggfunc="sum", fill_value=0.0
            )
            self._dense = table.reindex(index=rows, columns=cols, fill_value=0.0)
        return self._dense


def _solve_chain(counts: ChainCounts, n_channels: int) -> dict:
    """Conversion probability and value per journey of the fitted chain, in full and without each channel
    (certified solves, see :mod:`crm_models.attribution._absorb`)."""
    n_states = len(counts.state_codes)
    out_weight = (
        np.bincount(counts.pair_from, weights=counts.pair_weight, minlength=n_states)
        + counts.conversions + counts.nulls
    )
    safe = np.where(out_weight > 0, out_weight, 1.0)
    q = sp.csr_matrix(
        (counts.pair_weight / safe[counts.pair_from], (counts.pair_from, counts.pair_to)),
        shape=(n_states, n_states),
    )
    r_conv = counts.conversions / safe
    r_value = counts.value / safe
    total_start = counts.start.sum()
    p0 = counts.start / total_start if total_start > 0 else np.zeros(n_states)
    digits = _decode_states(counts.state_codes, counts.order, counts.base)
    contains = np.zeros((n_states, n_channels), dtype=bool)  # state x channel: the window holds it
    for j in range(digits.shape[1]):
        inside = np.flatnonzero(digits[:, j] >= 0)
        contains[inside, digits[inside, j]] = True
    solver = RemovalSolver(q, p0, np.column_stack([r_conv, r_value]), contains)  # limits BLAS threads
    p_without = np.empty(n_channels)
    v_without = np.empty(n_channels)
    try:
        p_full, v_full = (float(v) for v in solver.full)
        for c in range(n_channels):
            p_without[c], v_without[c] = solver.without(c) if contains[:, c].any() else (p_full, v_full)
    finally:
        solver.close()
    return {
        "q": q, "r_conv": r_conv, "p0": p0, "out_weight": out_weight, "digits": digits,
        "p_full": p_full, "v_full": v_full, "p_without": p_without, "v_without": v_without,
        "solve_stats": solver.stats,
    }


def _state_labels(digits: np.ndarray, channels: list[str]) -> list[str]:
    """Labels of the states: the channels of each window joined by ``" > "`` (padding, -1, skipped).

    Built column by column on object arrays (one vectorized concatenation per position of the window)
    rather than one ``join`` per state: tens of thousands of states at order 4.
    """
    names = np.asarray([*channels, ""], dtype=object)  # index -1 -> ""
    if digits.shape[0] == 0:
        return []
    labels = names[digits[:, 0]]
    for j in range(1, digits.shape[1]):
        column = digits[:, j]
        labels = np.where(column >= 0, labels + OUTPUT_SEPARATOR + names[column], labels)
    return labels.tolist()


def _shares(effects: np.ndarray, total: float) -> np.ndarray:
    effects = np.clip(effects, 0.0, None)
    s = effects.sum()
    if s <= 0 or total == 0:
        return np.zeros_like(effects)
    return effects / s * total


def markov_attribution(
    journeys: pd.DataFrame | EncodedJourneys,
    order: int = 1,
    *,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
    with_transitions: bool = True,
) -> MarkovAttribution:
    """Exact Markov-chain attribution of order ``order`` (removal effects, Anderl et al. 2016).

    Parameters
    ----------
    journeys:
        Aggregated journeys (see :func:`crm_models.attribution.encode_journeys` for the columns and the
        path format), or an already encoded :class:`EncodedJourneys`.
    order:
        Memory of the chain: states are windows of ``order`` consecutive channels.
    path, conversions, nulls, value, sep:
        Column names and path separator of ``journeys``.
    with_transitions:
        Build the labelled ``transitions`` frame (skip it for speed on very large state spaces).

    Returns
    -------
    MarkovAttribution
        Credit per channel, removal effects, conversion probability with and without each channel,
        the transition table.

    Notes
    -----
    See the module docstring for the equations. The fitted chain reproduces the observed conversion
    rate exactly (``conversion_probability * n_journeys == total conversions``), because the maximum
    likelihood transition probabilities conserve the observed flows.
    """
    enc = encode_journeys(journeys, path=path, conversions=conversions, nulls=nulls, value=value, sep=sep)
    counts = chain_counts(enc, order)
    solved = _solve_chain(counts, enc.n_channels)
    channels = list(enc.channels)
    total_conv = float(enc.conversions.sum())
    total_value = float(enc.value.sum())
    p_full, v_full = solved["p_full"], solved["v_full"]
    removal = 1.0 - solved["p_without"] / p_full if p_full > 0 else np.zeros(enc.n_channels)
    value_removal = 1.0 - solved["v_without"] / v_full if v_full > 0 else np.zeros(enc.n_channels)
    credit = pd.DataFrame(
        {"conversions": _shares(removal, total_conv), "value": _shares(value_removal, total_value)},
        index=pd.Index(channels, name="channel"),
    )
    effects = pd.DataFrame(
        {
            "removal_effect": removal,
            "conversion_probability_without": solved["p_without"],
            "value_removal_effect": value_removal,
            "value_per_journey_without": solved["v_without"],
        },
        index=pd.Index(channels, name="channel"),
    )
    states = _state_labels(solved["digits"], channels)
    transitions = _transition_frame(counts, solved, states) if with_transitions else pd.DataFrame(
        columns=["from", "to", "weight", "probability"]
    )
    return MarkovAttribution(
        order=int(order), credit=credit, removal_effects=effects, conversion_probability=p_full,
        value_per_journey=v_full, states=states, transitions=transitions, total_conversions=total_conv,
        total_value=total_value, n_journeys=float((enc.conversions + enc.nulls).sum()),
    )


def _transition_frame(counts: ChainCounts, solved: dict, states: list[str]) -> pd.DataFrame:
    labels = np.asarray(states, dtype=object)
    out = solved["out_weight"]
    safe = np.where(out > 0, out, 1.0)
    total_start = counts.start.sum()
    starts = np.flatnonzero(counts.start)
    convs = np.flatnonzero(counts.conversions)
    nls = np.flatnonzero(counts.nulls)
    frame = pd.DataFrame(
        {
            "from": np.concatenate([
                np.full(len(starts), START_STATE, dtype=object), labels[counts.pair_from], labels[convs],
                labels[nls],
            ]),
            "to": np.concatenate([
                labels[starts], labels[counts.pair_to], np.full(len(convs), CONVERSION_STATE, dtype=object),
                np.full(len(nls), NULL_STATE, dtype=object),
            ]),
            "weight": np.concatenate([
                counts.start[starts], counts.pair_weight, counts.conversions[convs], counts.nulls[nls],
            ]),
        }
    )
    denominators = np.concatenate([
        np.full(len(starts), total_start if total_start > 0 else 1.0), safe[counts.pair_from], safe[convs],
        safe[nls],
    ])
    frame["probability"] = frame["weight"].to_numpy() / denominators
    return frame


# ----------------------------------------------------------------------------------------------------
# order selection by held-out likelihood
# ----------------------------------------------------------------------------------------------------


@dataclass
class OrderSelection:
    """Result of :func:`select_markov_order`: a table per order and the order with the best held-out fit."""

    table: pd.DataFrame
    best_order: int


def _context_counts(
    enc: EncodedJourneys, conv: np.ndarray, null: np.ndarray, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(context code, outcome, weight) of every prediction in the paths.

    The outcome of position ``i`` is the channel of touch ``i`` (given the previous ``order`` touches,
    padded at the start) or, after the last touch, ``K`` (conversion) / ``K + 1`` (null).
    """
    k = enc.n_channels
    base = k + 1
    lengths = enc.lengths
    n_tokens = len(enc.codes)
    pidx = enc.path_index
    position = np.arange(n_tokens, dtype=np.int64) - np.repeat(enc.offsets[:-1], lengths)
    codes1 = enc.codes.astype(np.int64) + 1
    ctx_tok = np.zeros(n_tokens, dtype=np.int64)
    for j in range(order, 0, -1):
        prev = np.arange(n_tokens) - j
        digit = np.where(position >= j, codes1[np.maximum(prev, 0)], 0)
        ctx_tok = ctx_tok * base + digit
    w_tok = (conv + null)[pidx]
    # end-of-path predictions: context = last `order` touches
    last = enc.offsets[1:] - 1
    ctx_end = np.zeros(enc.n_paths, dtype=np.int64)
    for j in range(order - 1, -1, -1):
        idx = last - j
        digit = np.where(idx >= enc.offsets[:-1], codes1[np.maximum(idx, 0)], 0)
        ctx_end = ctx_end * base + digit
    contexts = np.concatenate([ctx_tok, ctx_end, ctx_end])
    outcomes = np.concatenate([enc.codes.astype(np.int64), np.full(enc.n_paths, k), np.full(enc.n_paths, k + 1)])
    weights = np.concatenate([w_tok, conv, null])
    return contexts, outcomes, weights


def _heldout_loglik(
    train: EncodedJourneys, test: EncodedJourneys, order: int, prior_strength: float
) -> tuple[float, float, int]:
    """Log-likelihood of ``test`` under the order-``order`` next-touch model fitted on ``train``.

    Probabilities are smoothed hierarchically: ``p_k(e | ctx) = (n(ctx, e) + a p_{k-1}(e | ctx')) /
    (n(ctx) + a)`` with ``ctx'`` the context shortened by its oldest touch and ``p_0`` add-one smoothed
    frequencies of the outcomes (interpolated Dirichlet smoothing, MacKay & Peto 1995).
    """
    n_out = train.n_channels + 2
    base = train.n_channels + 1

    def table(enc: EncodedJourneys, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if k == 0:
            _, out, w = _context_counts(enc, enc.conversions, enc.nulls, 1)
            return np.zeros(len(out), np.int64), out, w
        return _context_counts(enc, enc.conversions, enc.nulls, k)

    # fitted counts per order as dictionaries keyed by context*n_out + outcome
    fitted = []
    for k in range(order + 1):
        ctx, out, w = table(train, k)
        key, inv = np.unique(ctx * n_out + out, return_inverse=True)
        counts = np.bincount(inv, weights=w, minlength=len(key))
        ckey, cinv = np.unique(key // n_out, return_inverse=True)
        ctotal = np.bincount(cinv, weights=counts, minlength=len(ckey))
        fitted.append((key, counts, ckey, ctotal))

    def prob(k: int, ctx: np.ndarray, out: np.ndarray) -> np.ndarray:
        key, counts, ckey, ctotal = fitted[k]
        q = ctx * n_out + out
        pos = np.clip(np.searchsorted(key, q), 0, max(len(key) - 1, 0))
        n_e = np.where((len(key) > 0) & (key[pos] == q), counts[pos], 0.0) if len(key) else np.zeros(len(q))
        cpos = np.clip(np.searchsorted(ckey, ctx), 0, max(len(ckey) - 1, 0))
        n_c = np.where(ckey[cpos] == ctx, ctotal[cpos], 0.0) if len(ckey) else np.zeros(len(q))
        if k == 0:
            return (n_e + 1.0) / (n_c + n_out)
        shorter = ctx % (base ** (k - 1)) if k > 1 else np.zeros_like(ctx)
        return (n_e + prior_strength * prob(k - 1, shorter, out)) / (n_c + prior_strength)

    def loglik(enc: EncodedJourneys) -> float:
        ctx, out, w = table(enc, order)
        keep = w > 0
        return float(np.sum(w[keep] * np.log(prob(order, ctx[keep], out[keep]))))

    return loglik(train), loglik(test), len(fitted[-1][2])


def select_markov_order(
    journeys: pd.DataFrame | EncodedJourneys,
    orders: tuple[int, ...] = (1, 2, 3, 4),
    *,
    holdout: float = 0.3,
    n_splits: int = 3,
    seed: int = 0,
    prior_strength: float = 1.0,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
) -> OrderSelection:
    """Choose the chain order by the held-out log-likelihood of the journeys.

    Individual journeys are split at random (each path's conversion and null counts are thinned
    binomially) into a training part and a held-out part ``n_splits`` times. For each order the
    next-touch model (each touch, and finally conversion or null, predicted from the previous ``k``
    touches) is fitted on the training part with hierarchical smoothing toward lower orders, and the
    held-out journeys are scored. Higher orders always fit the training data better; the held-out
    likelihood penalizes the states they cannot estimate (Anderl et al. 2016 compare orders by
    predictive fit in the same spirit).

    Returns
    -------
    OrderSelection
        ``table``: per order the mean held-out log-likelihood per journey, its standard error over
        splits, the training log-likelihood per journey and the number of contexts; ``best_order``.
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    enc = encode_journeys(journeys, path=path, conversions=conversions, nulls=nulls, value=value, sep=sep)
    for k in orders:
        # the counts are keyed by context * (channels + 2) + outcome in int64, contexts up to (channels + 1) ** k
        if np.log(enc.n_channels + 1) * k + np.log(enc.n_channels + 2) >= np.log(2**63):
            raise ValueError(f"order {k} with {enc.n_channels} channels is too large for the context codes")
    rng = np.random.default_rng(seed)
    conv_int = np.rint(enc.conversions).astype(np.int64)
    null_int = np.rint(enc.nulls).astype(np.int64)
    rows = []
    results: dict[int, list[tuple[float, float, int]]] = {k: [] for k in orders}
    for _ in range(n_splits):
        conv_test = rng.binomial(conv_int, holdout)
        null_test = rng.binomial(null_int, holdout)
        test = enc.reweighted(conv_test, null_test, np.zeros(enc.n_paths))
        train = enc.reweighted(conv_int - conv_test, null_int - null_test, np.zeros(enc.n_paths))
        held_out = float((conv_test + null_test).sum())
        n_test = max(held_out, 1.0)  # floors only guard the division: the journeys split as counted
        n_train = max(float((conv_int + null_int).sum()) - held_out, 1.0)
        for k in orders:
            tr, te, n_ctx = _heldout_loglik(train, test, int(k), prior_strength)
            results[k].append((te / n_test, tr / n_train, n_ctx))
    for k in orders:
        arr = np.asarray([(a, b) for a, b, _ in results[k]])
        rows.append(
            {
                "order": int(k),
                "heldout_loglik": float(arr[:, 0].mean()),
                "heldout_se": float(arr[:, 0].std(ddof=1) / np.sqrt(len(arr))) if len(arr) > 1 else np.nan,
                "train_loglik": float(arr[:, 1].mean()),
                "n_contexts": int(results[k][-1][2]),
            }
        )
    table = pd.DataFrame(rows).set_index("order")
    return OrderSelection(table=table, best_order=int(table["heldout_loglik"].idxmax()))
