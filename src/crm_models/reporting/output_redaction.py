"""Personal data in what a notebook prints or displays: tables by their column headers, phones by pattern,
and the run's own customer ids by value.

:func:`crm_models.reporting.privacy.redact_notebook` runs these on every text output of an executed notebook
before the report is written (the brief: reports never show raw customer identifiers, names or e-mails).
What each rule covers, and what it cannot:

* **Tables, by column header** (HTML ``<table>``, ``DataFrame``/``Series`` text, Markdown pipe tables): the
  cells under a name column (``name``, ``first_name``, ``Customer name``, ...), an address, postcode, birth
  date or IP column become ``[removed]``; the cells under an identifier column (``customer_id``,
  ``Customer``, ``unit_id``, ...) become the same keyed-hash token as the report tables
  (:func:`crm_models.reporting.privacy.pseudonymize`); a cell that already holds a token is kept. Headers
  are compared after lower-casing and joining words with ``_``, so human labels (``First name``) match too.
  E-mail and phone *columns* are not matched by header (``Email`` and ``Phone`` are also channel names in
  attribution tables): their values are caught by the patterns instead.
* **Phone numbers, by pattern** (:data:`PHONE_PATTERN`): an international number (``+`` and 8 to 15 digits
  in groups) or a formatted national one (a leading trunk ``0`` and separated groups, 9 to 12 digits; or the
  North-American ``(555) 123-4567`` / ``555-123-4567``). An unformatted run of digits is *not* a phone:
  it cannot be told from an order id or an amount. Dates, amounts, percentages and version numbers never
  match (see the tests).
* **The run's customer ids, by value** (:func:`distinctive_ids`): ids read from the run's customer table that
  hold both a letter and a digit (``C00042``) are replaced wherever they appear as a whole token. Ids made of
  digits only (the public data sets use 1..23570 and 12346..18287) are left to the header rule: by value they
  are indistinguishable from counts, amounts and years.

Names in free prose (``print(f"Dear {first} ...")``) cannot be recognised reliably and are not touched.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from html.parser import HTMLParser

__all__ = [
    "PHONE_PATTERN",
    "PHONE_REDACTION",
    "REMOVED",
    "column_kind",
    "distinctive_ids",
    "redact_html_tables",
    "redact_known_ids",
    "redact_phones",
    "redact_text_tables",
]

REMOVED = "[removed]"
PHONE_REDACTION = "[phone removed]"

ID_COLUMNS = frozenset({"customer_id", "unit_id", "user_id", "client_id", "member_id", "account_id", "customer", "user",
                        "customer_key", "contact_id", "customerid", "customer_no", "customer_number"})
PERSONAL_COLUMNS = frozenset({"address", "street", "street_address", "home_address", "postal_address",
                              "billing_address", "shipping_address", "postcode", "post_code", "postal_code",
                              "zip", "zip_code", "zipcode", "ip", "ip_address", "birth_date", "date_of_birth",
                              "birthday", "dob"})
#: words before ``name`` / ``_name`` that make it a person's name (``product_name`` and ``segment_name`` are not)
NAME_PREFIXES = frozenset({"", "first", "last", "full", "given", "family", "middle", "maiden", "sur", "nick",
                           "customer", "client", "contact", "user", "member", "account", "display", "person",
                           "recipient", "holder", "cardholder", "billing", "shipping"})
_NAME_COLUMN = re.compile(r"([a-z]*?)_?name")
_TOKEN = re.compile(r"c_[0-9a-f]{4,64}")
_MISSING = frozenset({"", "-", "\u2013", "\u2014", "nan", "none", "<na>", "nat", "..."})


def column_kind(header: str) -> str:
    """``"id"`` for an identifier column, ``"personal"`` for a name, address, postcode, birth date or IP
    column, ``""`` otherwise; ``header`` is compared lower-cased with its words joined by ``_``."""
    normal = re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")
    if normal in ID_COLUMNS:
        return "id"
    match = _NAME_COLUMN.fullmatch(normal)
    if normal in PERSONAL_COLUMNS or (match is not None and match.group(1) in NAME_PREFIXES):
        return "personal"
    return ""


# --------------------------------------------------------------------------------------------------- phones
_INTERNATIONAL = r"\+\d{1,3}(?:[ .\-]?\(\d{1,4}\)|[ .\-]?\d{1,5}){1,6}"
_NATIONAL = r"\(?0\d{1,4}\)?[ \-/.]\d{2,8}(?:[ \-.]\d{2,5}){0,3}"
_NORTH_AMERICAN = r"(?:\(\d{3}\) ?|\d{3}[\-.])\d{3}[\-.]\d{4}"
PHONE_PATTERN = re.compile(rf"(?<![\w+.,/:\-])(?:{_INTERNATIONAL}|{_NATIONAL}|{_NORTH_AMERICAN})(?![\w\-]|[.,:/]\d)")
_DIGIT_RANGE = {"+": (8, 15), "0": (9, 12)}


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    low, high = _DIGIT_RANGE.get(text.lstrip("(")[:1], (10, 10))
    return PHONE_REDACTION if low <= digits <= high else text


def redact_phones(text: str) -> str:
    """``text`` with formatted phone numbers replaced by ``[phone removed]`` (see the module docstring)."""
    return PHONE_PATTERN.sub(_phone, text)


# --------------------------------------------------------------------------------------------------- ids by value
_ID_TOKEN = re.compile(r"[A-Za-z0-9][\w.@+\-]*[A-Za-z0-9]")


def distinctive_ids(ids: Iterable[object]) -> frozenset[str]:
    """The ids that can be recognised by value: 4+ characters of letters, digits and ``_.@+-``, with at least
    one letter and one digit, starting and ending with a letter or digit (so ``C00042``, not ``12346``)."""
    found = set()
    for value in ids:
        text = str(value)
        if (len(text) >= 4 and _ID_TOKEN.fullmatch(text) and any(c.isalpha() for c in text)
                and any(c.isdigit() for c in text)):
            found.add(text)
    return frozenset(found)


def redact_known_ids(text: str, ids: frozenset[str], token: Callable[[str], str]) -> str:
    """``text`` with every whole-token occurrence of one of ``ids`` replaced by ``token(id)``."""
    if not ids:
        return text
    return _ID_TOKEN.sub(lambda m: token(m.group(0)) if m.group(0) in ids else m.group(0), text)


# --------------------------------------------------------------------------------------------------- tables
def _replacement(kind: str, cell: str, token: Callable[[str], str] | None) -> str | None:
    """What a cell under a column of ``kind`` becomes, or ``None`` to keep it."""
    value = cell.strip()
    if not kind or value.lower() in _MISSING or _TOKEN.fullmatch(value):
        return None
    if kind == "personal":
        return REMOVED
    return None if token is None else token(value)


class _Table:
    def __init__(self) -> None:
        self.kinds: dict[int, str] = {}  # column position -> kind, from the header rows
        self.spans: dict[int, int] = {}  # column position -> rows still covered by a rowspan from above
        self.in_head = False
        self.had_head = False
        self.seen_data = False  # a row with a <td> was seen (a table without <thead>: its leading <th> rows head it)
        self.column = 0
        self.row_cells: list[str] = []


class _TableRedactor(HTMLParser):
    def __init__(self, token: Callable[[str], str] | None) -> None:
        super().__init__(convert_charrefs=False)
        self.token = token
        self.out: list[str] = []
        self.tables: list[_Table] = []
        self.cell: dict[str, object] | None = None  # the open cell: its kind, header flag, buffered output, text

    # the open cell's content is buffered so that it can be replaced as a whole
    def _emit(self, raw: str, text: str = "") -> None:
        if self.cell is not None:
            self.cell["raw"].append(raw)  # type: ignore[union-attr]
            self.cell["text"].append(text)  # type: ignore[union-attr]
        else:
            self.out.append(raw)

    def _close_cell(self) -> None:
        cell, self.cell = self.cell, None
        if cell is None:
            return
        raw = "".join(cell["raw"])  # type: ignore[arg-type]
        text = html.unescape("".join(cell["text"]))  # type: ignore[arg-type]
        table = self.tables[-1]
        if cell["header"]:
            kind = column_kind(text)
            if kind:
                for position in cell["positions"]:  # type: ignore[attr-defined]
                    table.kinds[position] = kind
            self.out.append(raw)
            return
        kinds = {table.kinds.get(p, "") for p in cell["positions"]}  # type: ignore[attr-defined]
        kind = "id" if "id" in kinds else ("personal" if "personal" in kinds else "")
        new = _replacement(kind, text, self.token)
        self.out.append(raw if new is None else html.escape(new, quote=False))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if tag == "table":  # a table inside a cell: the cell so far is judged first, the inner table on its own
            self._close_cell()
            self.out.append(raw)
            self.tables.append(_Table())
            return
        if not self.tables or self.cell is not None and tag not in {"td", "th", "tr"}:
            self._emit(raw, "")
            return
        table = self.tables[-1]
        if tag == "thead":
            table.in_head = table.had_head = True
        elif tag == "tbody":
            table.in_head = False
        elif tag == "tr":
            self._close_cell()
            table.column = 0
            table.row_cells = []
        elif tag in {"td", "th"}:
            self._close_cell()
            values = dict(attrs)
            while table.spans.get(table.column, 0) > 0:
                table.column += 1
            width = _int(values.get("colspan"))
            rows = _int(values.get("rowspan"))
            positions = list(range(table.column, table.column + width))
            if rows > 1:
                for p in positions:
                    table.spans[p] = rows  # counted down at the end of each row, this one included
            table.column += width
            table.row_cells.append(tag)
            self.out.append(raw)
            header = table.in_head or (tag == "th" and not table.had_head and not table.seen_data
                                       and "td" not in table.row_cells[:-1])
            self.cell = {"header": header, "positions": positions, "raw": [], "text": []}
            return
        self.out.append(raw)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._emit(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.tables and self.cell is not None and tag in {"td", "th", "tr", "table"}:
            self._close_cell()
        if self.tables and self.cell is None:
            table = self.tables[-1]
            if tag == "tr":
                table.spans = {p: n - 1 for p, n in table.spans.items() if n > 1}
                table.seen_data = table.seen_data or "td" in table.row_cells
            elif tag == "thead":
                table.in_head = False
            elif tag == "table":
                self.tables.pop()
        self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._emit(data, data)

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};", f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};", f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._emit(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._emit(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self._emit(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self._emit(f"<![{data}]>")


def _int(value: str | None) -> int:
    try:
        return max(1, int(str(value)))
    except ValueError:
        return 1


def redact_html_tables(fragment: str, token: Callable[[str], str] | None = None) -> str:
    """``fragment`` with the cells of personal columns replaced by ``[removed]`` and those of identifier
    columns by ``token(value)`` (kept when ``token`` is ``None``), columns found by their header cells
    (``<thead>`` rows; ``colspan``/``rowspan`` counted). Everything else is passed through unchanged."""
    if "<table" not in fragment.lower():
        return fragment
    parser = _TableRedactor(token)
    parser.feed(fragment)
    parser.close()
    if parser.cell is not None:  # an unclosed cell at the end: flush it
        parser._close_cell()
    return "".join(parser.out)


_SERIES_FOOTER = re.compile(r"^Name: (.+?), (?:Length: \d+, )?dtype: \S+$")
_MARKDOWN_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _text_block(lines: list[str], start: int) -> int:
    """The index after the last line of the table block starting at ``start`` (up to a blank line)."""
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    return end


def _index_name(line: str) -> str:
    """The kind of the index-name line of a ``DataFrame`` print (one word at the start), else ``""``."""
    words = line.split()
    return column_kind(words[0]) if len(words) == 1 and line[:1].strip() else ""


def _aligned(lines: list[str], rows: list[int], stop: int) -> bool:
    """True when every row's cell ends at ``stop`` (right-aligned under the header) or is empty there."""
    return all(len(lines[r]) <= stop or lines[r][stop] == " " for r in rows) and any(
        len(lines[r]) >= stop and lines[r][stop - 1] != " " for r in rows)


def _frame_header(lines: list[str], head: int) -> bool:
    """True when ``lines[head]`` heads a ``DataFrame`` print with a personal or identifier column: indented
    (the index column's blank header), or, printed without the index, with every row right-aligned under
    every column name."""
    line = lines[head]
    if not (any(column_kind(word) for word in line.split()) or _index_name(lines[head + 1])):
        return False
    if line[:1] == " ":
        return True
    rows = list(range(head + 1, _text_block(lines, head + 1)))
    return all(_aligned(lines, rows, m.end()) and all(len(lines[r]) >= m.end() and lines[r][m.end() - 1] != " "
                                                      for r in rows) for m in re.finditer(r"\S+", line))


def _redact_text_frame(lines: list[str], head: int, token: Callable[[str], str] | None) -> int:
    """Redact the ``DataFrame.to_string()`` block whose header is ``lines[head]``; returns the next line."""
    header = lines[head]
    names = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", header)]
    end = _text_block(lines, head + 1)
    rows = list(range(head + 1, end))
    block = [head, *rows]
    first = names[0][0] if names else 0
    index_kind, index_width = "", 0
    if rows and lines[rows[0]][:1].strip() and not lines[rows[0]][first:].strip():  # the index names line
        index_kind = _index_name(lines[rows[0]])  # one level only: a MultiIndex is left to the ids by value
        index_width = len(lines[rows[0]].rstrip())
        rows = rows[1:]
    indexed = bool(rows) and all(lines[r][:1].strip() for r in rows)
    if indexed:
        index_width = max([index_width] + [len(lines[r].split(None, 1)[0]) for r in rows])
    for number in range(len(names) - 1, -1, -1):  # right to left: the columns to the left keep their place
        start, stop, name = names[number]
        kind = column_kind(name)
        if not kind or not _aligned(lines, rows, stop):
            continue
        if number > 0:
            left = names[number - 1][1]
        elif indexed and start > 0:
            left = min(index_width, start - 1)
        else:
            left = 0
        new = {r: _replacement(kind, lines[r][left:stop], token) for r in rows}
        width = max([stop - left] + [len(v) + 1 for v in new.values() if v is not None])
        for r in block:
            line = lines[r].ljust(stop)
            cell = line[left:stop] if new.get(r) is None else new[r]
            lines[r] = line[:left] + cell.rjust(width) + line[stop:]
    if index_kind and indexed:
        labels = {r: lines[r].split(None, 1)[0] for r in rows}
        new = {r: _replacement(index_kind, labels[r], token) for r in rows}
        area = index_width
        grow = max([0] + [len(v) - area for v in new.values() if v is not None])
        for r in block:
            line = lines[r].ljust(area)
            label = new.get(r) or line[:area]
            lines[r] = label.ljust(area + grow) + line[area:]
    return end


def _redact_series(lines: list[str], footer: int, kind: str, token: Callable[[str], str] | None) -> None:
    row = footer - 1
    while row >= 0 and lines[row].strip():
        match = re.match(r"^(\S+\s+)(.*\S)\s*$", lines[row])
        if match:
            new = _replacement(kind, match.group(2), token)
            if new is not None:
                lines[row] = match.group(1) + new
        row -= 1


def _redact_markdown(lines: list[str], head: int, token: Callable[[str], str] | None) -> int:
    kinds = [column_kind(c) for c in lines[head].strip().strip("|").split("|")]
    end = head + 2
    while end < len(lines) and "|" in lines[end]:
        line = lines[end]
        lead, body, tail = re.match(r"^(\s*\|?)(.*?)(\|?\s*)$", line).groups()  # type: ignore[union-attr]
        cells = body.split("|")
        for i, kind in enumerate(kinds[: len(cells)]):
            new = _replacement(kind, cells[i], token)
            if new is not None:
                cells[i] = f" {new} "
        lines[end] = lead + "|".join(cells) + tail
        end += 1
    return end


def redact_text_tables(text: str, token: Callable[[str], str] | None = None) -> str:
    """``text`` with the personal and identifier columns of the tables in it redacted, as
    :func:`redact_html_tables` does for HTML: ``DataFrame`` prints (header line, optional index-name line,
    rows up to a blank line), ``Series`` prints (the ``Name: ..., dtype: ...`` footer names the column) and
    Markdown pipe tables."""
    if not text:
        return text
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        footer = _SERIES_FOOTER.match(line)
        if footer and column_kind(footer.group(1)):
            _redact_series(lines, i, column_kind(footer.group(1)), token)
            i += 1
        elif "|" in line and i + 1 < len(lines) and _MARKDOWN_RULE.match(lines[i + 1]):
            i = _redact_markdown(lines, i, token)
        elif i + 1 < len(lines) and lines[i + 1].strip() and _frame_header(lines, i):
            i = _redact_text_frame(lines, i, token)
        else:
            i += 1
    return "\n".join(lines)
