"""Counting products, pairs and triples in batches of baskets with numpy (the counting core of the rules).

A batch of baskets is a pair of arrays ``(indptr, indices)`` in compressed sparse row layout: the products of
basket ``b`` are ``indices[indptr[b]:indptr[b + 1]]`` (small integer codes). Every function here is pure and
works on one batch; the caller adds the counts of its batches, so memory is bounded by one batch, not by the
number of baskets.

Pairs and triples are counted by enumerating, for the baskets of each size ``s``, the ``C(s, 2)`` (or ``C(s, 3)``)
positions of a sorted ``baskets x s`` array at once, and turning each item set into one integer key
(``i * n + j``; for triples ``prefix(i, j) * n + k``), which ``numpy.bincount`` counts. This is the level-wise
counting of Apriori (Agrawal & Srikant 1994, "Fast algorithms for mining association rules", VLDB, sections 2.1
and 2.1.1): triples are counted only for candidates whose three pairs are frequent.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import comb

import numpy as np
import pandas as pd
import scipy.sparse as sp

Rows = tuple[np.ndarray, np.ndarray]  # (indptr, indices) of one batch of baskets

_DENSE_KEYS = 1 << 22  # count keys in a dense array up to this many possible keys (32 MiB of int64)
_CHUNK_KEYS = 1 << 23  # enumerate at most this many item sets of one size at a time (bounded memory)


def distinct_rows(offsets: np.ndarray, codes: np.ndarray, n_codes: int) -> Rows:
    """Baskets with every product once and sorted codes, from list offsets and (possibly repeated) codes."""
    offsets = np.asarray(offsets, dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(len(codes), dtype=np.int8), np.array(codes, dtype=np.int32),
                            offsets - offsets[0]), shape=(len(offsets) - 1, max(int(n_codes), 1)))
    matrix.sum_duplicates()  # sorts each row's codes and merges repeats (a product bought on two lines)
    return matrix.indptr.astype(np.int64), matrix.indices


def restrict_rows(rows: Rows, recode: np.ndarray, min_items: int) -> Rows:
    """Keep the products whose ``recode`` is not negative, renamed to it, in baskets left with ``min_items`` or
    more (codes within a basket may come out in any order)."""
    indptr, indices = rows
    mapped = recode[indices]
    keep = mapped >= 0
    cumulative = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=cumulative[1:])
    per_row = cumulative[indptr[1:]] - cumulative[indptr[:-1]]
    enough = per_row >= min_items
    keep &= np.repeat(enough, np.diff(indptr))
    kept = per_row[enough]
    new_indptr = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(kept, out=new_indptr[1:])
    return new_indptr, mapped[keep]


def _blocks_by_size(rows: Rows, min_size: int) -> Iterator[np.ndarray]:
    """The baskets of each size ``s >= min_size`` as ``baskets x s`` int64 arrays, codes increasing along rows."""
    indptr, indices = rows
    sizes = np.diff(indptr)
    order = np.argsort(sizes, kind="stable")
    sorted_sizes = sizes[order]
    cuts = np.flatnonzero(np.diff(sorted_sizes)) + 1
    for start, stop in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(order)]]), strict=True):
        if start == stop:
            continue
        size = int(sorted_sizes[start])
        if size < min_size:
            continue
        starts = indptr[order[start:stop]]
        block = indices[starts[:, None] + np.arange(size)[None, :]].astype(np.int64)
        block.sort(axis=1)
        yield block


class KeyCounter:
    """Adds up occurrences of integer keys in ``[0, n_keys)``: dense ``bincount`` for small key spaces, sorted
    unique keys otherwise."""

    def __init__(self, n_keys: int) -> None:
        self.n_keys = int(n_keys)
        self._dense = np.zeros(self.n_keys, dtype=np.int64) if self.n_keys <= _DENSE_KEYS else None
        self._sparse: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending: list[np.ndarray] = []
        self._pending_size = 0

    def add(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64).ravel()
        if self._dense is not None and keys.size * 8 >= self.n_keys:  # large enough to count at once
            self._dense += np.bincount(keys, minlength=self.n_keys)
            return
        self._pending.append(keys)
        self._pending_size += self._pending[-1].size
        if self._pending_size >= _CHUNK_KEYS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate(self._pending)
        self._pending, self._pending_size = [], 0
        if self._dense is not None:
            self._dense += np.bincount(keys, minlength=self.n_keys)
        else:
            self._sparse.append(np.unique(keys, return_counts=True))
            if len(self._sparse) > 8:
                self._sparse = [_merge_counts(self._sparse)]

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, counts)`` of the keys seen at least once, keys increasing."""
        self._flush()
        if self._dense is not None:
            keys = np.flatnonzero(self._dense)
            return keys, self._dense[keys]
        if not self._sparse:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return _merge_counts(self._sparse)


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([k for k, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)


def _row_chunks(block: np.ndarray, per_row: int) -> Iterator[np.ndarray]:
    step = max(1, _CHUNK_KEYS // max(per_row, 1))
    for first in range(0, len(block), step):
        yield block[first:first + step]


def count_pairs(rows: Rows, n: int, counter: KeyCounter) -> None:
    """Add the key ``i * n + j`` of every pair ``i < j`` of products in the same basket to ``counter``."""
    for block in _blocks_by_size(rows, 2):
        left, right = np.triu_indices(block.shape[1], 1)
        for chunk in _row_chunks(block, len(left)):
            counter.add(chunk[:, left] * n + chunk[:, right])


def count_triples(rows: Rows, n: int, prefixes: PrefixNumbers, counter: KeyCounter) -> None:
    """Add ``prefix(i, j) * n + k`` for every triple ``i < j < k`` in a basket whose pair ``(i, j)`` starts a
    candidate triple (see :class:`PrefixNumbers`)."""
    for block in _blocks_by_size(rows, 3):
        size = block.shape[1]
        if comb(size, 3) <= _CHUNK_KEYS:
            _add_triples(block, _triple_positions(size), n, prefixes, counter)
        else:  # very large baskets: one first position at a time keeps memory at C(size, 2) per basket
            for first in range(size - 2):
                second, third = np.triu_indices(size - first - 1, 1)
                positions = [np.full(len(second), first), second + first + 1, third + first + 1]
                _add_triples(block, positions, n, prefixes, counter)


def _triple_positions(size: int) -> list[np.ndarray]:
    """Positions ``p < q < r`` of every triple among ``size`` sorted items, as three arrays."""
    first, second = np.triu_indices(size, 1)
    after = size - 1 - second
    starts = np.cumsum(after) - after
    third = second.repeat(after) + 1 + (np.arange(int(after.sum())) - starts.repeat(after))
    return [first.repeat(after), second.repeat(after), third]


def _add_triples(block: np.ndarray, positions: list[np.ndarray], n: int, prefixes: PrefixNumbers,
                 counter: KeyCounter) -> None:
    first, second, third = positions
    for chunk in _row_chunks(block, len(first)):
        prefix = prefixes.of(chunk[:, first] * n + chunk[:, second])
        found = prefix >= 0
        counter.add(prefix[found] * n + chunk[:, third][found])


def candidate_triples(pairs_i: np.ndarray, pairs_j: np.ndarray) -> pd.DataFrame:
    """Apriori candidate generation (Agrawal & Srikant 1994, section 2.1.1): triples ``i < j < k`` whose three
    pairs are all frequent, from the frequent pairs ``i < j``."""
    frame = pd.DataFrame({"i": np.asarray(pairs_i, dtype=np.int64), "j": np.asarray(pairs_j, dtype=np.int64)})
    joined = frame.merge(frame.rename(columns={"j": "k"}), on="i")
    joined = joined.loc[joined["j"] < joined["k"]]
    frequent_pairs = frame.rename(columns={"i": "j", "j": "k"})
    return joined.merge(frequent_pairs, on=["j", "k"])[["i", "j", "k"]].reset_index(drop=True)


class PrefixNumbers:
    """Numbers the distinct prefixes ``(i, j)`` of candidate triples; :meth:`of` maps pair keys ``i * n + j`` to
    those numbers, -1 where no candidate starts with the pair (a dense array for small ``n``, a binary search
    otherwise)."""

    def __init__(self, i: np.ndarray, j: np.ndarray, n: int) -> None:
        keys = np.asarray(i, dtype=np.int64) * n + np.asarray(j, dtype=np.int64)
        self.keys, self.of_candidate = np.unique(keys, return_inverse=True)
        self._dense: np.ndarray | None = None
        if n * n <= _DENSE_KEYS:
            self._dense = np.full(n * n, -1, dtype=np.int64)
            self._dense[self.keys] = np.arange(len(self.keys))

    def __len__(self) -> int:
        return len(self.keys)

    def of(self, pair_keys: np.ndarray) -> np.ndarray:
        if self._dense is not None:
            return self._dense[pair_keys]
        position = np.searchsorted(self.keys, pair_keys)
        clipped = np.minimum(position, len(self.keys) - 1)
        return np.where(self.keys[clipped] == pair_keys, clipped, -1)
