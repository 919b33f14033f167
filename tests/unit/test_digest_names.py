"""Digests and names: the OCI grammars, with ECR's limits."""

from __future__ import annotations

import hashlib

import pytest

from stiva.errors import InvalidDigest, InvalidName, InvalidTag
from stiva.oci.digest import Digest, new_hasher
from stiva.oci.names import parse_name, parse_tag

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "b" * 128


@pytest.mark.parametrize("text", [SHA256, SHA512])
def test_registered_algorithms_parse_and_print_back(text: str) -> None:
    assert str(Digest.parse(text)) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("sha256:" + "a" * 63, "wrong length"),
        ("sha256:" + "A" * 64, "wrong length or not hex"),
        ("sha512:" + "b" * 64, "wrong length"),
        ("md5:" + "c" * 32, "unsupported digest algorithm 'md5'"),
        ("sha256", "not of the form"),
        ("", "not of the form"),
        ("SHA256:" + "a" * 64, "not of the form"),
    ],
)
def test_bad_digests_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidDigest, match=reason):
        Digest.parse(text)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_digest_of_matches_hashlib(algorithm: str) -> None:
    data = b"stiva" * 1000
    assert Digest.of(data, algorithm).encoded == hashlib.new(algorithm, data).hexdigest()
    hasher = new_hasher(algorithm)
    hasher.update(data[:10])
    hasher.update(data[10:])
    assert hasher.hexdigest() == Digest.of(data, algorithm).encoded


@pytest.mark.parametrize("name", ["ab", "team/app", "a.b_c__d---e/f0", "x" * 256, "a/b/c/d"])
def test_valid_names(name: str) -> None:
    assert parse_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["a", "Upper", "team//app", "/lead", "trail/", "a..b", "-x", "x" * 257, "a_-b", "app:tag"],
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidName):
        parse_name(name)


@pytest.mark.parametrize("tag", ["latest", "v1.2.3", "_x", "A-b_c.d", "t" * 128])
def test_valid_tags(tag: str) -> None:
    assert parse_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ".x", "-x", "t" * 129, "a/b", "a:b"])
def test_invalid_tags(tag: str) -> None:
    with pytest.raises(InvalidTag):
        parse_tag(tag)
