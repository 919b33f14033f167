"""Sealing access-key secrets at rest."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from stiva.errors import ConfigError
from stiva.services.secrets import PREFIX, SecretBox, decode_key, load_key

KEY = bytes(range(32))


def test_seal_round_trip_and_never_in_clear() -> None:
    box = SecretBox(KEY)
    sealed = box.seal("wJalrXUtnFEMI/K7MDENG", context="AKIAEXAMPLE")
    assert sealed.startswith(PREFIX)
    assert "wJalrXUtnFEMI" not in sealed
    assert box.unseal(sealed, context="AKIAEXAMPLE") == "wJalrXUtnFEMI/K7MDENG"
    assert box.seal("same", context="k") != box.seal("same", context="k")  # fresh nonce each time


def test_a_sealed_secret_is_bound_to_its_key_id_and_to_the_key() -> None:
    sealed = SecretBox(KEY).seal("s3cret", context="AKIAONE")
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox(KEY).unseal(sealed, context="AKIATWO")
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox(bytes(32)).unseal(sealed, context="AKIAONE")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ConfigError):
        SecretBox(KEY).unseal(tampered, context="AKIAONE")
    with pytest.raises(ConfigError, match="not sealed"):
        SecretBox(KEY).unseal("plaintext", context="AKIAONE")


def test_key_file_is_created_private_once(tmp_path: Path) -> None:
    key = load_key(None, tmp_path)
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(None, tmp_path) == key
    configured = base64.b64encode(b"k" * 32).decode()
    assert load_key(configured, tmp_path) == b"k" * 32


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(b"short").decode()])
def test_bad_configured_keys(text: str) -> None:
    with pytest.raises(ConfigError):
        decode_key(text)
