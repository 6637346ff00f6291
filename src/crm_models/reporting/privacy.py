"""Pseudonymize customer identifiers before they reach a report, a table artifact or a log.

A keyed hash (HMAC-SHA256) maps every identifier to a short, stable token (``c_3f9a1b2c4d``): the same
id and key always give the same token, so a customer can be followed across charts and runs, but the id
cannot be read back, nor a list of candidate e-mails hashed to match tokens, without the key.
Reports use this by default; a notebook parameter may turn it off for internal use.

The key comes from, in order: the ``salt`` argument; the ``CRM_PSEUDONYM_SALT`` environment variable
(kept for existing set-ups); the key file named by ``CRM_PSEUDONYM_KEY_FILE``; else the per-user file
``$XDG_CONFIG_HOME/crm_models/pseudonym.key`` (``~/.config/crm_models/pseudonym.key``). There is no
constant fallback: on first use a random 256-bit key is generated (``secrets``) and written there with
mode 0600, outside ``reports/`` and the MLflow store. Scheduled runs (``crm run``) never create it: they
refuse with exit code 2 when no readable key exists (see :func:`require_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crm_models.exceptions import ConfigurationError
from crm_models.reporting import output_redaction as _outputs

SALT_ENV = "CRM_PSEUDONYM_SALT"
KEY_FILE_ENV = "CRM_PSEUDONYM_KEY_FILE"
KEY_FILE_NAME = "pseudonym.key"
KEY_BYTES = 32
DEFAULT_PREFIX = "c_"
DEFAULT_LENGTH = 10

__all__ = [
    "KEY_FILE_ENV",
    "SALT_ENV",
    "key_file_path",
    "pseudonymize",
    "pseudonymize_frame",
    "redact_emails",
    "redact_error_text",
    "redact_notebook",
    "require_secret",
    "resolve_salt",
]


def key_file_path() -> Path:
    """Where the per-installation key lives: ``$CRM_PSEUDONYM_KEY_FILE``, else the user-config folder."""
    named = os.environ.get(KEY_FILE_ENV)
    if named:
        return Path(named).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "crm_models" / KEY_FILE_NAME


def _read_key(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the pseudonymization key {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}`"
        )
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise ConfigurationError(f"the pseudonymization key {path} is empty or too short (need 32+ characters)")
    return key


def _create_key(path: Path) -> bytes:
    """Write a new random key with mode 0600 (exclusive create: two first uses cannot overwrite each other)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(KEY_BYTES).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def require_secret() -> str:
    """Check that a readable key exists without creating one; return where it comes from.

    Raises ``ConfigurationError`` (exit code 2 for ``crm run``) naming the file and how to create it.
    """
    if os.environ.get(SALT_ENV):
        return f"${SALT_ENV}"
    path = key_file_path()
    if not path.is_file():
        raise ConfigurationError(
            f"no pseudonymization key at {path}: scheduled runs do not create one. Create it once with "
            "`crm pseudonym-key` (or point $CRM_PSEUDONYM_KEY_FILE at an existing key file, mode 0600)"
        )
    try:
        _read_key(path)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the pseudonymization key {path}: {exc}") from exc
    return str(path)


def resolve_salt(salt: str | bytes | None = None, *, create: bool = True) -> bytes:
    """The key to use, as bytes: the argument, else ``$CRM_PSEUDONYM_SALT``, else the key file.

    With ``create`` (the default, interactive first use) a missing key file is generated; without it a
    missing file raises ``ConfigurationError``.
    """
    if salt is None:
        salt = os.environ.get(SALT_ENV) or None
    if salt is None:
        path = key_file_path()
        if path.is_file():
            return _read_key(path)
        if not create:
            require_secret()
        return _create_key(path)
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    if not salt:
        raise ValueError("the pseudonymization salt must not be empty")
    return salt


def _token(value: Any, key: bytes, prefix: str, length: int) -> Any:
    if value is None:
        return None
    try:  # keep missing values missing (NaN, pd.NA, NaT)
        if value != value:  # noqa: PLR0124 - NaN check without importing pandas
            return value
    except (TypeError, ValueError):
        pass
    if type(value).__name__ in {"NAType", "NaTType"}:
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 123.0 and 123 are the same customer
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:length]}"


def pseudonymize(
    ids: Any,
    salt: str | bytes | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    length: int = DEFAULT_LENGTH,
) -> Any:
    """Replace identifiers by salted-hash tokens, keeping the container type.

    Parameters
    ----------
    ids
        One identifier (str or int), a list/tuple/iterable, a numpy array, a pandas ``Series`` or
        ``Index``. Missing values stay missing.
    salt
        Secret key; default ``$CRM_PSEUDONYM_SALT``, else the per-installation key file (see the module).
    prefix, length
        Token prefix and number of hex digits kept (10 hex digits = 40 bits: collisions are negligible
        below about a million customers; raise ``length`` for more).

    Returns
    -------
    The same kind of object with every identifier replaced: a str for a scalar, a list for a list,
    a ``Series`` with the same index and name for a ``Series``, and so on.

    Examples
    --------
    >>> pseudonymize("alice@example.com", salt="s") == pseudonymize("alice@example.com", salt="s")
    True
    >>> pseudonymize(["a", "b"], salt="s")[0].startswith("c_")
    True
    """
    if not 4 <= length <= 64:
        raise ValueError(f"length must be between 4 and 64 hex digits, got {length}")
    key = resolve_salt(salt)
    if isinstance(ids, str | bytes | int | float) or ids is None:
        if isinstance(ids, bytes):
            ids = ids.decode("utf-8", errors="replace")
        return _token(ids, key, prefix, length)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a hard dependency
        pd = None
    if pd is not None and isinstance(ids, pd.Series):
        return pd.Series(
            [_token(v, key, prefix, length) for v in ids.tolist()], index=ids.index, name=ids.name, dtype=object
        )
    if pd is not None and isinstance(ids, pd.Index):
        return pd.Index([_token(v, key, prefix, length) for v in ids.tolist()], name=ids.name, dtype=object)
    try:
        import numpy as np

        if isinstance(ids, np.ndarray):
            return np.array([_token(v, key, prefix, length) for v in ids.tolist()], dtype=object)
    except ImportError:  # pragma: no cover
        pass
    tokens = [_token(v, key, prefix, length) for v in ids]
    if isinstance(ids, tuple):
        return tuple(tokens)
    return tokens


def pseudonymize_frame(
    frame: Any,
    columns: Iterable[str] = ("customer_id",),
    salt: str | bytes | None = None,
    *,
    index: bool = False,
    drop: Iterable[str] = ("email", "name", "first_name", "last_name", "address", "phone"),
) -> Any:
    """A copy of ``frame`` with identifier columns pseudonymized and personal columns dropped.

    ``columns`` that are absent are ignored; ``index=True`` also pseudonymizes the index (for frames
    indexed by customer id). Columns named in ``drop`` (case-insensitive) are removed: they never belong
    in a report.
    """
    out = frame.copy()
    lowered = {str(c).lower(): c for c in out.columns}
    to_drop = [lowered[d.lower()] for d in drop if d.lower() in lowered]
    if to_drop:
        out = out.drop(columns=to_drop)
    for column in columns:
        if column in out.columns:
            out[column] = pseudonymize(out[column], salt=salt)
    if index:
        out.index = pseudonymize(out.index, salt=salt)
    return out


EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
EMAIL_REDACTION = "[email removed]"


def redact_emails(text: str) -> str:
    """Replace anything that looks like an e-mail address by ``[email removed]``.

    A safety net for report text (error messages can quote offending rows); ids are the notebook's job.
    """
    return EMAIL_PATTERN.sub(EMAIL_REDACTION, text)


_TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def redact_notebook(
    nb: Any, *, ids: bool = True, known_ids: Iterable[object] = (), salt: str | bytes | None = None
) -> Any:
    """Redact the personal data in every text output of an executed notebook (in place; returns ``nb``).

    In streams, ``text/plain``, ``text/html``, ``text/markdown`` and the other text outputs: e-mail addresses
    and phone numbers (by pattern), the cells of name / address / postcode / birth-date columns of the tables
    (HTML, ``DataFrame`` and ``Series`` prints, Markdown), and, with ``ids`` (the default; a notebook's
    ``pseudonymize_ids = False`` turns it off), the cells of identifier columns and the ``known_ids`` (the run's
    customer ids) that can be recognised by value, replaced by their keyed-hash token (the same as the report
    tables). Rules and limits: :mod:`crm_models.reporting.output_redaction`. In error outputs also the personal
    data of a ``DataContractError``'s example rows (:func:`redact_error_text`).

    Images are left alone (base64 has no ``@``); inputs are not shown in reports and hold no data.
    """
    key = resolve_salt(salt) if ids else None
    token = None if key is None else (lambda value: _token(value, key, DEFAULT_PREFIX, DEFAULT_LENGTH))
    known = _outputs.distinctive_ids(known_ids) if token is not None else frozenset()

    def clean(text: str, tables: Any) -> str:
        text = tables(text, token)
        if token is not None:
            text = _outputs.redact_known_ids(text, known, token)
        return _redact_contacts(text)

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                output["text"] = clean(_join(output.get("text", "")), _outputs.redact_text_tables)
            elif kind == "error":
                output["evalue"] = redact_error_text(str(output.get("evalue", "")))
                output["traceback"] = [
                    redact_error_text(_ANSI.sub("", line)) if EXAMPLES_MARKER in _ANSI.sub("", line)
                    else _redact_contacts(line)
                    for line in output.get("traceback", [])
                ]
            elif kind in {"display_data", "execute_result"}:
                data = output.get("data", {})
                for mime in _TEXT_MIME:
                    if mime in data and isinstance(data[mime], str | list):
                        tables = _outputs.redact_html_tables if mime == "text/html" else _outputs.redact_text_tables
                        data[mime] = clean(_join(data[mime]), tables)
    return nb


def _redact_contacts(text: str) -> str:
    """E-mail addresses and phone numbers removed."""
    return redact_emails(_outputs.redact_phones(text))


def _join(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


#: contact columns whose values error examples drop; display outputs leave these headers alone (they are also
#: channel names in attribution tables) and catch the values by pattern instead
_CONTACT_COLUMNS = frozenset({"email", "e-mail", "e_mail", "phone", "phone_number", "mobile"})
_PERSONAL_PARTS = ("email", "phone", "address", "surname")
EXAMPLES_MARKER = "example rows:\n"
WITHHELD = "[example rows withheld from the report: they could not be checked for personal data]"
REMOVED = "[removed]"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_COLUMN_LINE = re.compile(r"^column: '([^'\n]*)'$", re.MULTILINE)


def _kind(column: str) -> str:
    """'id' for an identifier column, 'personal' for other personal data, '' otherwise: the rules of
    :func:`~crm_models.reporting.output_redaction.column_kind` (one list of id, name and address columns), plus
    e-mail and phone columns."""
    kind = _outputs.column_kind(column)
    if kind:
        return kind
    lowered = column.strip().lower()
    if lowered in _CONTACT_COLUMNS or any(part in lowered for part in _PERSONAL_PARTS):
        return "personal"
    return ""


def _redact_frame(lines: list[str], key: bytes) -> str | None:
    """A ``DataFrame.to_string()`` block with identifier columns hashed and personal columns dropped."""
    import pandas as pd

    header = lines[0]
    names = header.split()
    ends, start = [], 0
    for name in names:  # values are right-aligned under their column name: its end is the column's end
        pos = header.find(name, start)
        if pos < 0:
            return None
        start = pos + len(name)
        ends.append(start)
    index, rows = [], []
    for line in lines[1:]:
        if not line.strip():
            continue
        label = line.split(None, 1)[0]
        cells, previous = [], len(label)
        for end in ends:
            cells.append(line[previous:end].strip())
            previous = end
        if line[previous:].strip():
            return None  # more text than columns: not a plain frame
        index.append(label)
        rows.append(cells)
    frame = pd.DataFrame(rows, columns=names, index=index, dtype=object)
    kinds = {name: _kind(name) for name in names}
    frame = frame.drop(columns=[n for n, k in kinds.items() if k == "personal"])
    for name in frame.columns:
        if kinds[name] == "id":
            frame[name] = [_token(v, key, DEFAULT_PREFIX, DEFAULT_LENGTH) for v in frame[name].tolist()]
    return frame.to_string()


def _redact_examples(block: str, column: str | None, key: bytes) -> str:
    import ast

    kind = _kind(column) if column else ""
    lines = block.splitlines()
    if not lines:
        return block
    if len(lines) == 1:  # a sequence of reprs: 'a', 'b'
        try:
            values = ast.literal_eval(f"[{lines[0]}]")
        except (ValueError, SyntaxError):
            return WITHHELD if kind else block
        if kind == "personal":
            return ", ".join(REMOVED for _ in values)
        if kind == "id":
            return ", ".join(repr(_token(v, key, DEFAULT_PREFIX, DEFAULT_LENGTH)) for v in values)
        return block
    if lines[0][:1].isspace():  # a DataFrame: a header line over the index column
        redacted = _redact_frame(lines, key)
        return WITHHELD if redacted is None else redacted
    # a Series: "index  value" per line, values of the error's column
    if not kind:
        return block
    out = []
    for line in lines:
        parts = line.split(None, 1)
        value = parts[1].strip() if len(parts) > 1 else ""
        shown = REMOVED if kind == "personal" else _token(value, key, DEFAULT_PREFIX, DEFAULT_LENGTH)
        out.append(f"{parts[0] if parts else ''}    {shown}")
    return "\n".join(out)


def redact_error_text(text: str, salt: str | bytes | None = None) -> str:
    """Error text fit to publish: e-mails and phone numbers removed, and in a ``DataContractError``'s example rows the
    identifier columns pseudonymized (same tokens as the report tables) and other personal columns
    (names, e-mails, phones, addresses) dropped. Rows that cannot be parsed are withheld."""
    if EXAMPLES_MARKER not in text:
        return _redact_contacts(text)
    head, block = text.split(EXAMPLES_MARKER, 1)
    found = _COLUMN_LINE.search(head)
    key = resolve_salt(salt)
    block = _redact_examples(block, found.group(1) if found else None, key)  # before: e-mails shift columns
    return _redact_contacts(head + EXAMPLES_MARKER + block)
