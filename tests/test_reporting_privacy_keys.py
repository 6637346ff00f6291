"""Issue 21, mutation survivors of ``reporting/privacy``: the pseudonymization key (where it lives, its mode,
its length), the token formula (HMAC-SHA256, RFC 2104, first ``length`` hex digits) and the containers
:func:`pseudonymize` keeps. Each test names the mutation class it guards against.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError
from crm_models.reporting import privacy
from crm_models.reporting.privacy import (
    KEY_FILE_ENV,
    SALT_ENV,
    key_file_path,
    pseudonymize,
    pseudonymize_frame,
    redact_emails,
    require_secret,
    resolve_salt,
)

KEY = "k" * 32


def _hand_token(value: str, key: str = KEY, prefix: str = "c_", length: int = 10) -> str:
    """HMAC-SHA256 of the id's text under the key (RFC 2104), its first ``length`` hex digits."""
    return prefix + hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:length]


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    """No salt variable, no key-file variable, a fresh config folder: the defaults are in force."""
    monkeypatch.delenv(SALT_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "crm_models" / "pseudonym.key"


def _key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


# ------------------------------------------------------------------------------------------ where the key lives
def test_key_file_path_from_the_variable_the_config_folder_or_home(no_key, monkeypatch, tmp_path):
    """Guards against: the environment variable names changed or dropped, the path parts renamed, `/` -> `*`."""
    assert key_file_path() == no_key
    monkeypatch.setenv(KEY_FILE_ENV, "~/keys/my.key")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert key_file_path() == tmp_path / "home" / "keys" / "my.key"  # ~ expanded
    monkeypatch.delenv(KEY_FILE_ENV)
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert key_file_path() == tmp_path / "home" / ".config" / "crm_models" / "pseudonym.key"


def test_key_readable_by_group_or_others_is_refused_naming_the_file_and_the_fix(tmp_path):
    """Guards against: the permission mask `&` -> `|`, group `|` others -> `&`, the message dropped."""
    for mode in (0o640, 0o604, 0o610):
        path = _key_file(tmp_path / f"k{mode:o}", KEY, mode)
        with pytest.raises(ConfigurationError, match="chmod 600") as info:
            privacy._read_key(path)
        assert str(path) in str(info.value) and f"{mode:o}" in str(info.value)
    assert privacy._read_key(_key_file(tmp_path / "ok", KEY, 0o600)) == KEY.encode()


def test_key_length_bound_is_32_characters_after_stripping(tmp_path):
    """Guards against: `< 32` -> `<= 32` / `< 33`, the strip dropped."""
    assert privacy._read_key(_key_file(tmp_path / "a", "  " + "x" * 32 + "\n")) == b"x" * 32
    with pytest.raises(ConfigurationError, match="too short") as info:
        privacy._read_key(_key_file(tmp_path / "b", "x" * 31 + "   \n"))
    assert str(tmp_path / "b") in str(info.value)


def test_first_use_creates_a_private_folder_and_a_0600_key_of_64_hex_digits(no_key):
    """Guards against: the folder mode dropped, the key size or encoding changed, a second create overwriting."""
    key = resolve_salt()
    assert no_key.is_file() and stat.S_IMODE(no_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(no_key.parent.stat().st_mode) == 0o700
    assert len(key) == 64 and int(key, 16) >= 0 and no_key.read_bytes() == key + b"\n"
    assert privacy._create_key(no_key) == key  # exclusive create: the existing key is read back
    assert resolve_salt() == key


def test_require_secret_names_the_source_and_never_creates(no_key, monkeypatch):
    """Guards against: the missing-file test inverted, the message or the returned source dropped."""
    with pytest.raises(ConfigurationError, match="crm pseudonym-key") as info:
        require_secret()
    assert str(no_key) in str(info.value) and "CRM_PSEUDONYM_KEY_FILE" in str(info.value)
    assert not no_key.exists()
    with pytest.raises(ConfigurationError, match="pseudonym"):
        resolve_salt(create=False)
    _key_file(no_key, KEY)
    assert require_secret() == str(no_key)
    assert resolve_salt(create=False) == KEY.encode()
    monkeypatch.setenv(SALT_ENV, "from-env")
    assert require_secret() == f"${SALT_ENV}"
    assert resolve_salt() == b"from-env"


def test_unreadable_key_is_a_configuration_error_naming_the_file(no_key, monkeypatch):
    """Guards against: the OSError of a key that exists but cannot be read escaping, the path dropped."""
    _key_file(no_key, KEY)

    def refuse(self):
        raise PermissionError("denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigurationError, match="cannot read") as info:
        require_secret()
    assert str(no_key) in str(info.value) and "denied" in str(info.value)


def test_salt_text_is_utf8_and_bytes_pass_through():
    """Guards against: the encoding changed, the empty-salt check dropped."""
    assert resolve_salt("é" * 2) == "éé".encode()
    assert resolve_salt(b"\x00\xff") == b"\x00\xff"
    for empty in ("", b""):
        with pytest.raises(ValueError, match="salt"):
            resolve_salt(empty)


# ------------------------------------------------------------------------------------------ the token
def test_token_is_the_first_hex_digits_of_hmac_sha256():
    """Guards against: the hashed text, the key, the prefix or the length changed."""
    assert pseudonymize("alice", salt=KEY) == _hand_token("alice")
    assert pseudonymize("ünïcode", salt=KEY) == _hand_token("ünïcode")
    assert pseudonymize("alice", salt=KEY, prefix="u_", length=6) == _hand_token("alice", prefix="u_", length=6)
    assert pseudonymize(b"alice", salt=KEY) == _hand_token("alice")
    assert pseudonymize(b"al\xffce", salt=KEY) == _hand_token("al\ufffdce")  # undecodable bytes replaced
    assert pseudonymize(17850.0, salt=KEY) == _hand_token("17850")  # 17850.0 and 17850 are one customer
    assert pseudonymize(0.5, salt=KEY) == _hand_token("0.5")


@pytest.mark.parametrize("length", [4, 64])
def test_length_bounds_are_inclusive(length):
    """Guards against: `4 <= length <= 64` with a bound moved by one."""
    assert pseudonymize("a", salt=KEY, length=length) == _hand_token("a", length=length)


@pytest.mark.parametrize("length", [3, 65])
def test_length_outside_the_bounds_is_refused_naming_it(length):
    with pytest.raises(ValueError, match=f"length.*{length}"):
        pseudonymize("a", salt=KEY, length=length)


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT])
def test_missing_values_stay_missing(missing):
    """Guards against: the NA / NaT type names changed (they would be hashed as text)."""
    out = pseudonymize([missing, "a"], salt=KEY)
    assert out[1] == _hand_token("a")
    assert out[0] is missing or (isinstance(out[0], float) and np.isnan(out[0]))


def test_every_container_keeps_its_kind_prefix_length_and_name():
    """Guards against: an element, the prefix, the length, the name or the dtype dropped in one branch."""
    want = [_hand_token(v, prefix="u_", length=6) for v in ("a", "b")]
    kw = {"salt": KEY, "prefix": "u_", "length": 6}
    series = pseudonymize(pd.Series(["a", "b"], index=[5, 6], name="customer_id"), **kw)
    assert series.tolist() == want and series.index.tolist() == [5, 6] and series.name == "customer_id"
    assert series.dtype == object
    index = pseudonymize(pd.Index(["a", "b"], name="customer_id"), **kw)
    assert isinstance(index, pd.Index) and index.tolist() == want and index.name == "customer_id"
    assert index.dtype == object
    array = pseudonymize(np.array(["a", "b"]), **kw)
    assert isinstance(array, np.ndarray) and array.dtype == object and array.tolist() == want
    assert pseudonymize(("a", "b"), **kw) == tuple(want)
    assert pseudonymize(["a", "b"], **kw) == want
    assert pseudonymize(iter(["a", "b"]), **kw) == want


def test_frame_helper_salt_index_and_drop_list(monkeypatch):
    """Guards against: the salt not passed on, `index` on by default, the drop list case-sensitive."""
    monkeypatch.setenv(SALT_ENV, "another-key-entirely-another-key")
    frame = pd.DataFrame({"customer_id": ["a"], "NAME": ["Ann"], "Phone": ["1"], "spend": [3.0]},
                         index=pd.Index(["a"], name="customer_id"))
    out = pseudonymize_frame(frame, salt=KEY)
    assert list(out.columns) == ["customer_id", "spend"] and out.index.tolist() == ["a"]
    assert out["customer_id"].tolist() == [_hand_token("a")]
    hashed = pseudonymize_frame(frame, salt=KEY, index=True, columns=())
    assert hashed.index.tolist() == [_hand_token("a")] and hashed["customer_id"].tolist() == ["a"]


def test_email_redaction_text():
    """Guards against: the replacement text or the input dropped."""
    assert redact_emails("to a.b+c@mail.example.co.uk now") == "to [email removed] now"
    assert os.environ.get(SALT_ENV) is None  # the conftest key isolation holds for this module
