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
import pyarrow.compute as pc

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
        self._arrow: dict[pa.DataType, pa.Array] = {}

    def arrow(self, type_: pa.DataType) -> pa.Array:
        """The names as an Arrow array of ``type_`` (the value set of Arrow's hash lookup)."""
        if type_ not in self._arrow:
            self._arrow[type_] = pa.array(self.names, type=type_)
        return self._arrow[type_]

    def table(self, all_long: bool) -> tuple[list[np.ndarray], np.ndarray, np.uint64] | None:
        """Words of the names (in the scheme of :func:`_words`) and a collision-free multiply-shift
        hash table over them, or ``None`` when two names cannot be told apart by the hash."""
        if all_long not in self._tables:
            words = _words(_unaligned_words(self.padded), self.start, self.end, self.length, self.n_words, all_long)
            h = _hash(words)
            found = None
            for bits in range(max(1, int(np.ceil(np.log2(len(self.names) + 1)))), 21):
                shift = np.uint64(64 - bits)
                slots = (h >> shift).astype(np.int64)
                if len(np.unique(slots)) == len(slots):
                    lookup = np.full(1 << bits, -1, dtype=np.int16 if len(self.names) < 2**15 else np.int32)
                    lookup[slots] = np.arange(len(self.names))
                    found = (words, lookup, shift)
                    break
            self._tables[all_long] = found
        return self._tables[all_long]


def _words(view: np.ndarray, start: np.ndarray, end: np.ndarray, length: np.ndarray, n_words: int,
           all_long: bool) -> list[np.ndarray]:
    """Words that, with the length, determine a token's bytes exactly.

    When every token has at least 8 bytes, words start at ``start, start + 8, ...`` and the last word
    *ends* at ``end`` (overlapping), so no masking is needed; otherwise bytes beyond the token are masked.
    """
    if all_long:
        out = [view[start + 8 * w] if w else view[start] for w in range(n_words - 1)]
        out.append(view[end - 8])
        return out
    out = []
    for w in range(n_words):
        word = view[start + 8 * w] if w else view[start]
        out.append(word & _MASKS[np.clip(length - 8 * w, 0, 8)])
    return out


def _hash(words: list[np.ndarray]) -> np.ndarray:
    """Multiplicative mix of the words (in place on a fresh array)."""
    h = np.multiply(words[0], _MIX)
    for word in words[1:]:
        np.bitwise_xor(h, word, out=h)
        np.multiply(h, _MIX, out=h)
    return h


def split_spaced(arr: pa.Array, sep: str, names: NameTable) -> tuple[np.ndarray, np.ndarray] | None:
    """Channel codes and path lengths by Arrow, for paths written with one space on each side of the
    separator (``"a > b"``, the canonical form): split on ``" > "``, then look every token up among the
    known names (a hash lookup in C++; about 40% faster than :func:`split_encode` on such paths).

    Exact whenever it answers: names never contain the separator and have no surrounding whitespace,
    so any other spacing (``"a>b"``, ``"a  > b"``, a leading space) or an unknown name leaves a token
    that is no known name, and the function returns ``None``.
    """
    needle = sep.strip()
    if not needle or not names.names or len(arr) == 0:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    lists = pc.split_pattern(arr, pattern=f" {needle} ")
    codes = pc.index_in(lists.flatten(), value_set=names.arrow(arr.type))
    if codes.null_count:
        return None
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    code_type = np.int16 if len(names.names) < 2**15 else np.int32  # as split_encode: half the memory
    return codes.to_numpy(zero_copy_only=False).astype(code_type), np.diff(offsets)


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
    padded = np.empty(len(data) + 2 * PAD + 8 * MAX_WORDS, dtype=np.uint8)
    padded[:PAD] = 0
    padded[PAD : PAD + len(data)] = data
    padded[PAD + len(data) :] = 0
    view = _unaligned_words(padded)
    index_type = np.int32 if len(padded) < 2**31 else np.int64
    sep_pos = np.flatnonzero(data == sep_bytes[0]).astype(index_type)
    sep_pos += PAD
    offsets = (offsets + PAD).astype(index_type)
    n_sep = np.diff(np.searchsorted(sep_pos, offsets))
    n_tokens = n_sep + 1
    total = int(n_tokens.sum())
    # tokens before each separator end at `left`, tokens after it start at `right`; with ' > ' (checked
    # for every separator at once: the three bytes around it) no trimming is needed inside a path
    spaced = len(sep_pos) > 0 and bool(
        np.all((view[sep_pos - 1] & np.uint64(0xFFFFFF)) == np.uint64(0x20 | (sep_bytes[0] << 8) | (0x20 << 16)))
    )
    left = sep_pos - 1 if spaced else sep_pos
    right = sep_pos + 2 if spaced else sep_pos + 1
    first_token = np.cumsum(n_tokens) - n_tokens
    last_token = first_token + n_tokens - 1
    is_first = np.zeros(total, dtype=bool)
    is_first[first_token] = True
    start = np.empty(total, dtype=index_type)
    start[is_first] = offsets[:-1]
    start[~is_first] = right
    end = np.empty(total, dtype=index_type)
    if spaced:  # a token that is not the last of its path ends 3 bytes before the next one starts
        np.subtract(start[1:], 3, out=end[:-1])
        end[last_token] = offsets[1:]
    else:
        is_last = np.zeros(total, dtype=bool)
        is_last[last_token] = True
        end[is_last] = offsets[1:]
        end[~is_last] = left
    del is_first, left, right
    # trim whitespace: everywhere when the separator is not ' > ', else only at the ends of the strings
    if spaced:
        candidates_start, candidates_end = first_token, last_token
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
    # (a token that keeps whitespace, e.g. after ' >  ', matches no known name, all of which are trimmed:
    # the verification below sends such blocks to Arrow)
    length = end - start
    if total == 0:
        return None
    shortest = int(length.min())
    if shortest <= 0:
        return None
    all_long = shortest >= 8
    words = _words(view, start, end, length, names.n_words, all_long)
    del start, end
    prepared = names.table(all_long)
    if prepared is None:
        return None
    name_words, lookup, shift = prepared
    h = _hash(words)
    np.right_shift(h, shift, out=h)
    candidate = lookup[h.view(np.int64)]
    if candidate.min() < 0:
        return None
    ok = names.length[candidate] == length
    for word, name_word in zip(words, name_words):
        ok &= name_word[candidate] == word
    if not ok.all():
        return None
    return candidate, n_tokens.astype(np.int64)
