"""Content digests (`algorithm:encoded`), as the OCI image spec registers them.

Only sha256 and sha512 are registered; both are accepted wherever the spec allows a digest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from stiva.errors import InvalidDigest

# OCI image-spec descriptor grammar for the whole string, then per-algorithm encodings.
_GRAMMAR = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_ENCODED = {
    "sha256": re.compile(r"^[a-f0-9]{64}$"),
    "sha512": re.compile(r"^[a-f0-9]{128}$"),
}
ALGORITHMS: tuple[str, ...] = tuple(_ENCODED)


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True, order=True, slots=True)
class Digest:
    algorithm: str
    encoded: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse and validate a digest string; raise InvalidDigest with a clear reason."""
        if len(text) > 256 or not _GRAMMAR.match(text):
            raise InvalidDigest(f"invalid digest '{text[:200]}': not of the form algorithm:hex")
        algorithm, encoded = text.split(":", 1)
        pattern = _ENCODED.get(algorithm)
        if pattern is None:
            raise InvalidDigest(
                f"unsupported digest algorithm '{algorithm}' (supported: {', '.join(ALGORITHMS)})"
            )
        if not pattern.match(encoded):
            raise InvalidDigest(f"invalid {algorithm} digest '{text}': wrong length or not hex")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        hasher = new_hasher(algorithm)
        hasher.update(data)
        return cls(algorithm, hasher.hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"


def new_hasher(algorithm: str) -> Hasher:
    if algorithm not in _ENCODED:
        raise InvalidDigest(f"unsupported digest algorithm '{algorithm}'")
    return hashlib.new(algorithm)
