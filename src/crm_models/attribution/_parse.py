"""Fast, exact splitting of path strings into channel codes on the raw Arrow bytes (numpy only).

Arrow's ``split_pattern`` + ``utf8_trim_whitespace`` materialize one string per touch; for millions of
journeys that dominates the run time. Here the separator bytes are located in the Arrow data buffer,
token boundaries follow from them, whitespace is trimmed by moving the boundaries, and each token is
identified by comparing *all* its bytes (read as 64-bit words) and its length with the channel names
already known (taken from a sample parsed by Arrow). A token that matches no known name makes the
function return ``None`` and the caller parses that block with Arrow instead, so the result is always
exact. Blocks are small (cache-sized), which matters more than the number of numpy passes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

MAX_WORDS = 4  # names up to 32 bytes take the fast path
PAD = 8
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True
_MASKS = np.array([(1 << (8 * m)) - 1 if m < 8 else (1 << 64) - 1 for m in range(9)], dtype=np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def arrow_bytes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """(data bytes, int64 offsets starting at 0) of a string array without nulls."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        return None
    if pa.types.is_string(arr.type):
        off_type = np.int32
    elif pa.types.is_large_string(arr.type):
        off_type = np.int64
    else:
        return None
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=off_type)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def _unaligned_words(padded: np.ndarray) -> np.ndarray:
    """View where element ``i`` is the little-endian 64-bit word of bytes ``i .. i + 7`` (no copy)."""
    base = np.frombuffer(padded.data, dtype="<u8", count=1)
    return np.lib.stride_tricks.as_strided(base, shape=(len(padded) - 7,), strides=(1,))


class NameTable:
    """The known channel names, prepared for word-wise comparison."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        raw = [n.encode() for n in self.names]
        self.length = np.array([len(b) for b in raw], dtype=np.int64)
        self.n_words = max(1, -(-int(self.length.max(initial=1)) // 8))
        self.usable = bool(raw) and int(self.length.max()) <= 8 * MAX_WORDS and int(self.length.min()) > 0
        buf = np.frombuffer(bytes(PAD) + b"".join(raw) + bytes(8 * self.n_words + PAD), dtype=np.uint8).copy()
        self.padded = buf
        self.start = (PAD + np.concatenate([[0], np.cumsum(self.length)[:-1]])).astype(np.int64)
        self.end = self.start + self.length
        self._tables: dict[bool, tuple] = {}

    def table(self, all_long: bool) -> tuple[list[np.ndarray], np.ndarray, int]:
        """Words of the names (in the scheme of :func:`_words`), and a collision-free hash table."""
        if all_long not in self._tables:
            words = _words(_unaligned_words(self.padded), self.start, self.end, self.length, self.n_words, all_long)
            h = _hash(words, self.length)
            size = len(self.names)
            while True:  # smallest table size without collisions among the names
                slots = h % np.uint64(size)
                if len(np.unique(slots)) == len(slots):
                    break
                size += 1
            lookup = np.full(size, -1, dtype=np.int64)
            lookup[slots.astype(np.int64)] = np.arange(len(self.names))
            self._tables[all_long] = (words, lookup, size)
        return self._tables[all_long]


def _words(view: np.ndarray, start: np.ndarray, end: np.ndarray, length: np.ndarray, n_words: int,
           all_long: bool) -> list[np.ndarray]:
    """Words that, with the length, determine a token's bytes exactly.

    When every token has at least 8 bytes, words start at ``start, start + 8, ...`` and the last word
    *ends* at ``end`` (overlapping), so no masking is needed; otherwise bytes beyond the token are masked.
    """
    if all_long:
        out = [view[start + 8 * w] for w in range(n_words - 1)]
        out.append(view[end - 8])
        return out
    out = []
    for w in range(n_words):
        word = view[start + 8 * w]
        out.append(word & _MASKS[np.clip(length - 8 * w, 0, 8)])
    return out


def _hash(words: list[np.ndarray], length: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = words[0] * _MIX
        for word in words[1:]:
            h = (h ^ word) * _MIX
        return h ^ length.astype(np.uint64)


def split_encode(arr: pa.Array, sep: str, names: NameTable) -> tuple[np.ndarray, np.ndarray] | None:
    """Channel codes (indices into ``names``) and path lengths, or ``None`` when the fast path cannot
    decide (multi-byte separator, a token that is not a known name, empty tokens)."""
    sep_bytes = sep.strip().encode()
    if len(sep_bytes) != 1 or not names.usable:
        return None
    parts = arrow_bytes(arr)
    if parts is None:
        return None
    data, offsets = parts
    padded = np.zeros(len(data) + 2 * PAD + 8 * MAX_WORDS, dtype=np.uint8)
    padded[PAD : PAD + len(data)] = data
    view = _unaligned_words(padded)
    n = len(offsets) - 1
    sep_pos = np.flatnonzero(data == sep_bytes[0]) + PAD
    offsets = offsets + PAD
    n_sep = np.diff(np.searchsorted(sep_pos, offsets))
    n_tokens = n_sep + 1
    total = int(n_tokens.sum())
    # tokens before each separator end at `left`, tokens after it start at `right`
    spaced = (
        len(sep_pos) > 0 and bool((padded[sep_pos - 1] == 32).all()) and bool((padded[sep_pos + 1] == 32).all())
    )
    left = sep_pos - 1 if spaced else sep_pos
    right = sep_pos + 2 if spaced else sep_pos + 1
    first_token = np.cumsum(n_tokens) - n_tokens
    is_first = np.zeros(total, dtype=bool)
    is_first[first_token] = True
    is_last = np.zeros(total, dtype=bool)
    is_last[first_token + n_tokens - 1] = True
    start = np.empty(total, dtype=np.int64)
    end = np.empty(total, dtype=np.int64)
    start[is_first] = offsets[:-1]
    start[~is_first] = right
    end[is_last] = offsets[1:]
    end[~is_last] = left
    # trim whitespace: everywhere when the separator is not ' > ', else only at the ends of the strings
    if spaced:
        head, tail = first_token, first_token + n_tokens - 1
        candidates_start, candidates_end = head, tail
    else:
        candidates_start = candidates_end = np.arange(total)
    todo = candidates_start[(start[candidates_start] < end[candidates_start])
                            & _WHITESPACE[padded[start[candidates_start]]]]
    while todo.size:
        start[todo] += 1
        todo = todo[(start[todo] < end[todo]) & _WHITESPACE[padded[start[todo]]]]
    todo = candidates_end[(start[candidates_end] < end[candidates_end])
                          & _WHITESPACE[padded[end[candidates_end] - 1]]]
    while todo.size:
        end[todo] -= 1
        todo = todo[(start[todo] < end[todo]) & _WHITESPACE[padded[end[todo] - 1]]]
    if spaced:  # a ' > ' separator with more spaces around it: trim those too (rare; exactness first)
        extra = (_WHITESPACE[padded[start]] | _WHITESPACE[padded[end - 1]]) & (start < end)
        if extra.any():
            return None
    length = end - start
    if total == 0 or length.min() <= 0 or length.max() > 8 * names.n_words:
        return None
    all_long = bool(length.min() >= 8)
    words = _words(view, start, end, length, names.n_words, all_long)
    del start, end
    name_words, lookup, size = names.table(all_long)
    candidate = lookup[(_hash(words, length) % np.uint64(size)).astype(np.int64)]
    if (candidate < 0).any():
        return None
    ok = names.length[candidate] == length
    for word, name_word in zip(words, name_words):
        ok &= name_word[candidate] == word
    if not ok.all():
        return None
    dtype = np.int16 if len(names.names) < 2**15 else np.int32
    return candidate.astype(dtype), n_tokens.astype(np.int64)
