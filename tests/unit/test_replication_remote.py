"""A peer's registry token is kept between deliveries until shortly before it expires, and
dropped when the peer answers 401 (the next delivery logs in again)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from stiva.config import ReplicationPeer
from stiva.services.replication import remote
from stiva.services.replication.remote import PeerSession

PEER = ReplicationPeer(
    region="eu-west-1",
    endpoint="http://peer.invalid:5000",
    access_key_id="AKIAEXAMPLEEXAMPLE01",
    secret_access_key="secret",
)


@pytest.fixture(autouse=True)
def no_tokens() -> Iterator[None]:
    remote._TOKENS.clear()
    yield
    remote._TOKENS.clear()


class Peer:
    """GetAuthorizationToken answers, counted; `/v2/` answers `status`."""

    def __init__(self, lifetime: timedelta) -> None:
        self.logins = 0
        self.lifetime = lifetime
        self.status = 200

    def session(self, monkeypatch: pytest.MonkeyPatch) -> PeerSession:
        def call(_self: PeerSession, operation: str, **_: Any) -> dict[str, Any]:
            assert operation == "GetAuthorizationToken"
            self.logins += 1
            token = base64.b64encode(f"AWS:token-{self.logins}".encode()).decode()
            expires = datetime.now(UTC) + self.lifetime
            return {"authorizationData": [{"authorizationToken": token, "expiresAt": expires}]}

        monkeypatch.setattr(PeerSession, "_call", call)
        session = PeerSession(
            PEER,
            source_account="111122223333",
            source_region="us-east-1",
            destination_account="111122223333",
            timeout=5,
        )
        session.http = httpx.Client(
            base_url=PEER.endpoint,
            transport=httpx.MockTransport(lambda request: httpx.Response(self.status)),
        )
        return session

    def token(self, session: PeerSession) -> str:
        header = session.http.headers["Authorization"].removeprefix("Basic ")
        return base64.b64decode(header).decode()


def test_deliveries_share_a_token_until_near_its_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(timedelta(hours=12))
    for _ in range(3):
        session = peer.session(monkeypatch)
        session.login()
        assert peer.token(session) == "AWS:token-1"
    assert peer.logins == 1
    short = Peer(timedelta(minutes=5))  # within the margin: not worth keeping
    remote._TOKENS.clear()
    for _ in range(2):
        short.session(monkeypatch).login()
    assert short.logins == 2


def test_a_401_drops_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    peer = Peer(timedelta(hours=12))
    session = peer.session(monkeypatch)
    session.login()
    peer.status = 401
    with pytest.raises(remote.outcome.DeliveryError) as failure:
        session.delete_image("app", "sha256:" + "0" * 64)
    assert not failure.value.permanent  # retried, and the retry logs in again
    again = peer.session(monkeypatch)
    again.login()
    assert peer.logins == 2
    assert peer.token(again) == "AWS:token-2"
