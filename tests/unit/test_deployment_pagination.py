"""Addresses of a deployment, and pagination tokens."""

from __future__ import annotations

import pytest

from stiva.errors import InvalidParameter
from stiva.services.deployment import Deployment
from stiva.services.pagination import decode_token, encode_token

DEPLOYMENT = Deployment(
    region="eu-west-1",
    default_account_id="111111111111",
    public_url="http://127.0.0.1:5000",
    domain=None,
)
WITH_DOMAIN = Deployment(
    region="eu-west-1",
    default_account_id="111111111111",
    public_url="http://127.0.0.1:5000",
    domain="localhost",
)


def test_without_a_registry_domain_every_account_uses_the_public_host() -> None:
    for account in ("111111111111", "222222222222"):
        assert DEPLOYMENT.registry_host(account) == "127.0.0.1:5000"
        assert DEPLOYMENT.proxy_endpoint(account) == "http://127.0.0.1:5000"
    assert DEPLOYMENT.repository_uri("111111111111", "a/b") == "127.0.0.1:5000/a/b"


def test_with_a_registry_domain_hosts_take_ecrs_shape() -> None:
    assert (
        WITH_DOMAIN.registry_host("111111111111") == "111111111111.dkr.ecr.eu-west-1.localhost:5000"
    )
    assert (
        WITH_DOMAIN.proxy_endpoint("222222222222")
        == "http://222222222222.dkr.ecr.eu-west-1.localhost:5000"
    )
    https = Deployment(
        region="us-east-1",
        default_account_id="1" * 12,
        public_url="https://r.example.com",
        domain="r.example.com",
    )
    assert https.repository_uri("3" * 12, "x") == "333333333333.dkr.ecr.us-east-1.r.example.com/x"


def test_ecr_shaped_hosts_select_their_account() -> None:
    for deployment in (DEPLOYMENT, WITH_DOMAIN):
        assert (
            deployment.account_for_host("222222222222.dkr.ecr.eu-west-1.localhost:5000")
            == "222222222222"
        )
        assert (
            deployment.account_for_host("222222222222.DKR.ECR.eu-west-1.example.com")
            == "222222222222"
        )


@pytest.mark.parametrize(
    "host", [None, "localhost:5000", "127.0.0.1", "12.dkr.ecr.x.y", "[::1]:5000"]
)
def test_plain_hosts_mean_the_default_account(host: str | None) -> None:
    assert DEPLOYMENT.account_for_host(host) == "111111111111"


def test_repository_arn() -> None:
    assert (
        DEPLOYMENT.repository_arn("3" * 12, "x/y")
        == "arn:aws:ecr:eu-west-1:333333333333:repository/x/y"
    )


def test_pagination_tokens_round_trip_and_resist_tampering() -> None:
    key = b"p" * 32
    token = encode_token({"kind": "repositories", "after": "abc"}, key)
    assert decode_token(token, key, kind="repositories")["after"] == "abc"
    with pytest.raises(InvalidParameter):
        decode_token(token, key, kind="list-images")
    with pytest.raises(InvalidParameter):
        decode_token(token, b"q" * 32, kind="repositories")
    body, mac = token.split(".")
    with pytest.raises(InvalidParameter):
        decode_token(body[:-2] + "AA." + mac, key, kind="repositories")
    with pytest.raises(InvalidParameter):
        decode_token("garbage", key, kind="repositories")
