"""Pull-time update exclusions in-process: register, list, deregister, limits, honouring."""

from __future__ import annotations

from datetime import UTC, datetime

from stiva.metadata import models as m
from stiva.services import identity
from tests.support.registry import InProcessRegistry


def arn(account: str, name: str, kind: str = "role") -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def test_register_list_deregister(registry: InProcessRegistry) -> None:
    scanner = arn("111122223333", "scanner")
    before = datetime.now(UTC).timestamp()
    registered = registry.ecr_ok("RegisterPullTimeUpdateExclusion", principalArn=scanner)
    assert registered["principalArn"] == scanner
    assert before - 1 <= registered["createdAt"] <= datetime.now(UTC).timestamp() + 1
    again = registry.ecr("RegisterPullTimeUpdateExclusion", principalArn=scanner)
    assert again.json()["__type"] == "ExclusionAlreadyExistsException"
    assert scanner in again.json()["message"]
    listed = registry.ecr_ok("ListPullTimeUpdateExclusions")
    assert listed == {"pullTimeUpdateExclusions": [scanner]}
    gone = registry.ecr_ok("DeregisterPullTimeUpdateExclusion", principalArn=scanner)
    assert gone == {"principalArn": scanner}
    missing = registry.ecr("DeregisterPullTimeUpdateExclusion", principalArn=scanner)
    assert missing.json()["__type"] == "ExclusionNotFoundException"
    assert registry.ecr_ok("ListPullTimeUpdateExclusions") == {"pullTimeUpdateExclusions": []}


def test_principal_arn_must_be_an_iam_user_or_role(registry: InProcessRegistry) -> None:
    for bad in (
        "arn:aws:iam::123456789012:group/devs",
        "arn:aws:sts::123456789012:assumed-role/r/s",
        "not-an-arn",
        arn("123456789012", "x" * 200),
    ):
        response = registry.ecr("RegisterPullTimeUpdateExclusion", principalArn=bad)
        assert response.json()["__type"] == "ValidationException", bad
    ok = arn("123456789012", "ci/builder", kind="user")
    assert registry.ecr_ok("RegisterPullTimeUpdateExclusion", principalArn=ok)
    assert registry.ecr("ListPullTimeUpdateExclusions", maxResults=0).json()["__type"] == (
        "ValidationException"
    )


def test_list_pages_and_the_limit_of_100(registry: InProcessRegistry) -> None:
    principals = sorted(arn("123456789012", f"role-{i:03d}") for i in range(100))
    for principal in principals:
        registry.ecr_ok("RegisterPullTimeUpdateExclusion", principalArn=principal)
    over = registry.ecr("RegisterPullTimeUpdateExclusion", principalArn=arn("1" * 12, "extra"))
    assert over.json()["__type"] == "LimitExceededException"
    assert "100" in over.json()["message"]
    seen: list[str] = []
    token = None
    while True:
        page = registry.ecr_ok(
            "ListPullTimeUpdateExclusions", maxResults=30, **({"nextToken": token} if token else {})
        )
        seen += page["pullTimeUpdateExclusions"]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == principals
    forged = registry.ecr("ListPullTimeUpdateExclusions", nextToken="abc.def")
    assert forged.json()["__type"] == "InvalidParameterException"


def test_exclusions_belong_to_one_registry(registry: InProcessRegistry) -> None:
    registry.ecr_ok("RegisterPullTimeUpdateExclusion", principalArn=arn("123456789012", "r"))
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.db.write() as session:
        other = identity.create_account(session, ctx.secrets, account_id="999988887777")
    registry.access_key_id, registry.secret_access_key = (
        other.access_key_id,
        other.secret_access_key,
    )
    assert registry.ecr_ok("ListPullTimeUpdateExclusions") == {"pullTimeUpdateExclusions": []}


def test_pulls_by_excluded_principals_are_not_recorded(registry: InProcessRegistry) -> None:
    registry.create_repository("pulled")
    digest, _ = registry.push_image("pulled", "v1", registry.auth)
    me = f"arn:aws:iam::{registry.account_id}:user/admin"  # the bootstrap user, the caller
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]

    def pull_time() -> float | None:
        detail = registry.ecr_ok("DescribeImages", repositoryName="pulled")["imageDetails"][0]
        value = detail.get("lastRecordedPullTime")
        return float(value) if value is not None else None

    registry.ecr_ok("RegisterPullTimeUpdateExclusion", principalArn=me)
    assert registry.client.get("/v2/pulled/manifests/v1", headers=registry.auth).status_code == 200
    registry.ecr_ok("BatchGetImage", repositoryName="pulled", imageIds=[{"imageTag": "v1"}])
    assert ctx.pulls.flush(ctx.db) == 0
    assert pull_time() is None

    registry.ecr_ok("DeregisterPullTimeUpdateExclusion", principalArn=me)
    pulled = registry.client.get(f"/v2/pulled/manifests/{digest}", headers=registry.auth)
    assert pulled.status_code == 200
    assert ctx.pulls.flush(ctx.db) == 1
    assert pull_time() is not None


def test_excluded_and_other_pulls_of_one_image(registry: InProcessRegistry) -> None:
    """Two principals pull; only the one not excluded moves the pull time."""
    registry.create_repository("mixed")
    registry.push_image("mixed", "v1", registry.auth)
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    assert registry.client.get("/v2/mixed/manifests/v1", headers=registry.auth).status_code == 200
    assert ctx.pulls.flush(ctx.db) == 1
    with ctx.db.read() as session:
        row = session.query(m.Manifest).one()
        first, manifest_pk, digest = row.last_pulled_at, row.id, row.digest
    scanner = arn(registry.account_id, "scanner")
    registry.ecr_ok("RegisterPullTimeUpdateExclusion", principalArn=scanner)
    later = datetime(2100, 1, 1, tzinfo=UTC)
    ctx.pulls.record(manifest_pk, digest, later, scanner)
    assert ctx.pulls.flush(ctx.db) == 0
    with ctx.db.read() as session:
        assert session.get_one(m.Manifest, manifest_pk).last_pulled_at == first
    ctx.pulls.record(manifest_pk, digest, later, scanner)
    ctx.pulls.record(manifest_pk, digest, later.replace(year=2099), arn(registry.account_id, "app"))
    assert ctx.pulls.flush(ctx.db) == 1
    with ctx.db.read() as session:
        assert session.get_one(m.Manifest, manifest_pk).last_pulled_at == later.replace(year=2099)


def test_a_pull_noted_before_its_image_was_deleted_never_lands_on_another(
    registry: InProcessRegistry,
) -> None:
    """Pulls are written seconds later; an image deleted meanwhile may have left its id to a
    new one (SQLite reuses the highest id): the new image keeps no pull time."""
    registry.create_repository("reuse")
    pulled, _ = registry.push_image("reuse", "old", registry.auth, layers=[b"old"])
    assert registry.client.get("/v2/reuse/manifests/old", headers=registry.auth).status_code == 200
    ctx = registry.client.app.state.ctx  # type: ignore[attr-defined]
    registry.ecr_ok("BatchDeleteImage", repositoryName="reuse", imageIds=[{"imageDigest": pulled}])
    fresh, _ = registry.push_image("reuse", "new", registry.auth, layers=[b"new"])
    ctx.pulls.flush(ctx.db)
    with ctx.db.read() as session:
        row = session.query(m.Manifest).filter_by(digest=fresh).one()
        assert row.last_pulled_at is None
    detail = registry.ecr_ok("DescribeImages", repositoryName="reuse")["imageDetails"][0]
    assert detail["imageDigest"] == fresh
    assert "lastRecordedPullTime" not in detail
