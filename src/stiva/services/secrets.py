"""Secrets at rest: access-key secrets are sealed with AES-256-GCM, never stored in clear.

SigV4 needs a secret back (the server recomputes the signature), so secrets are encrypted, not
hashed. The key-encryption key comes from the configuration (`auth.secret_key`, base64 of 32
bytes; env `STIVA_AUTH_SECRET_KEY`) or, for the embedded default, from `<data_dir>/secret.key`
(mode 0600, created on first start): kept apart from the database, so a copy of the database
alone does not reveal any secret. Several nodes must share the configured key.

Sealed form: `sealed:v1:` + base64url(12-byte nonce || ciphertext || tag); the access key id is
bound in as associated data, so a sealed secret cannot be moved to another key's row.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stiva.errors import ConfigError

PREFIX = "sealed:v1:"
KEY_FILE = "secret.key"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("the secret key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(key)

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def unseal(self, stored: str, *, context: str) -> str:
        """The plaintext of a sealed secret; ConfigError if it was sealed under another key."""
        if not self.is_sealed(stored):
            raise ConfigError("a stored secret is not sealed")
        try:
            raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise ConfigError(
                "a stored secret cannot be decrypted: the secret key differs from the one it "
                "was sealed with (check auth.secret_key / <data_dir>/secret.key)"
            ) from None


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise ConfigError("auth.secret_key is not valid base64") from None
    if len(key) != 32:
        raise ConfigError("auth.secret_key must be base64 of exactly 32 bytes")
    return key


def load_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured key, else the data directory's key file (created when absent)."""
    if configured:
        return decode_key(configured)
    path = data_dir / KEY_FILE
    if path.exists():
        return decode_key(path.read_text())
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key
