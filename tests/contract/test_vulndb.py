"""The vulnerability database: imports from osv.dev zips, directories, JSON and YAML files and
Alpine secdb documents, incremental and idempotent, withdrawn and pruned records, the lookups
matching uses, and the `stiva vulndb` commands against a data directory."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from stiva.app import build_context, prepare
from stiva.cli import main
from stiva.clock import ManualClock
from stiva.config import load_settings
from stiva.metadata import models as m
from stiva.services.context import RegistryContext
from stiva.services.scanning import vulndb, vulndb_files
from stiva.services.scanning.advisories import Advisories
from stiva.services.scanning.vulndb import SourceReport
from tests.support.layers import DATA, VULNDB

START = datetime(2026, 2, 1, tzinfo=UTC)
OSV = VULNDB / "osv"
SYNTHETIC = DATA / "osv" / "synthetic.json"
RECORD = {
    "id": "GHSA-TEST-0001",
    "modified": "2026-01-01T00:00:00Z",
    "summary": "test",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "Some_Package"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}],
        }
    ],
}


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[RegistryContext]:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    prepare(settings)
    context = build_context(settings, ManualClock(START))
    yield context
    context.db.dispose()


def run(ctx: RegistryContext, path: Path, *, prune: bool = False) -> list[SourceReport]:
    return [
        vulndb.import_source(ctx.db, source, prune=prune, now=ctx.now)
        for source in vulndb_files.sources_of(path)
    ]


def counts(report: SourceReport) -> tuple[int, int, int, int, int]:
    return report.added, report.updated, report.unchanged, report.removed, report.invalid


def lookup(ctx: RegistryContext, ecosystem: str, name: str) -> list[str]:
    with ctx.db.read() as session:
        return [a.id for a in Advisories(session)(ecosystem, name)]


def write(path: Path, records: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records))
    return path


def test_an_osv_zip_imports_once(ctx: RegistryContext) -> None:
    [first] = run(ctx, OSV / "PyPI.zip")
    assert (first.name, first.kind) == ("osv:PyPI", "osv")
    assert counts(first) == (2661, 0, 0, 0, 0)
    assert (first.records, first.withdrawn) == (2661, 10)
    [again] = run(ctx, OSV / "PyPI.zip")
    assert counts(again) == (0, 0, 2661, 0, 0)
    assert "PYSEC-2019-132" in lookup(ctx, "PyPI", "urllib3")
    assert "PYSEC-2019-144" not in lookup(ctx, "PyPI", "arrayfire")  # withdrawn


def test_a_directory_of_osv_json(ctx: RegistryContext) -> None:
    [report] = run(ctx, OSV / "npm-sample")
    assert (report.name, report.records) == ("osv:npm-sample", 3)
    assert set(lookup(ctx, "npm", "lodash")) == {"GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"}
    assert lookup(ctx, "npm", "minimist") == ["GHSA-xvch-5gv4-984h"]


def test_a_json_array_and_a_yaml_record(ctx: RegistryContext, tmp_path: Path) -> None:
    [synthetic] = run(ctx, DATA / "osv" / "synthetic.json")
    assert (synthetic.name, synthetic.records, synthetic.withdrawn) == ("osv:synthetic", 17, 1)
    record = RECORD | {"modified": datetime(2026, 1, 2, tzinfo=UTC)}  # as PyYAML reads it
    path = tmp_path / "pypa" / "PYSEC-TEST-1.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(record))
    [yaml_report] = run(ctx, path)
    assert (yaml_report.name, yaml_report.records) == ("osv:PYSEC-TEST-1", 1)
    assert lookup(ctx, "PyPI", "some-package") == ["GHSA-TEST-0001"]  # PEP 503 name


def test_alpine_secdb_documents_are_sources_of_their_own(ctx: RegistryContext) -> None:
    reports = run(ctx, VULNDB / "alpine-secdb" / "v3.4")
    assert [r.name for r in reports] == [
        "alpine-secdb:v3.4/community",
        "alpine-secdb:v3.4/main",
    ]
    assert {r.kind for r in reports} == {"alpine-secdb"}
    assert "ALPINE-CVE-2016-6301" in lookup(ctx, "Alpine:v3.4", "busybox")
    assert lookup(ctx, "Alpine:v3.5", "busybox") == []
    assert [counts(r) for r in run(ctx, VULNDB / "alpine-secdb" / "v3.4" / "main.yaml")] == [
        (0, 0, reports[1].records, 0, 0)
    ]


def test_changed_records_replace_older_ones_only(ctx: RegistryContext, tmp_path: Path) -> None:
    run(ctx, write(tmp_path / "a" / "feed.json", [RECORD]))
    newer = RECORD | {"modified": "2026-03-01T00:00:00Z", "affected": []}
    [report] = run(ctx, write(tmp_path / "b" / "feed.json", [newer]))
    assert counts(report) == (0, 1, 0, 0, 0)
    assert lookup(ctx, "PyPI", "some-package") == []  # keys follow the new content
    older = RECORD | {"modified": "2025-12-01T00:00:00Z"}
    [report] = run(ctx, write(tmp_path / "c" / "feed.json", [older]))
    assert counts(report) == (0, 0, 1, 0, 0)
    assert lookup(ctx, "PyPI", "some-package") == []


def test_withdrawn_records_stop_matching(ctx: RegistryContext, tmp_path: Path) -> None:
    run(ctx, write(tmp_path / "a" / "feed.json", [RECORD]))
    assert lookup(ctx, "PyPI", "some-package") == ["GHSA-TEST-0001"]
    withdrawn = RECORD | {"modified": "2026-03-01T00:00:00Z", "withdrawn": "2026-03-01T00:00:00Z"}
    [report] = run(ctx, write(tmp_path / "b" / "feed.json", [withdrawn]))
    assert (report.updated, report.withdrawn) == (1, 1)
    assert lookup(ctx, "PyPI", "some-package") == []


def test_prune_removes_what_a_snapshot_no_longer_holds(
    ctx: RegistryContext, tmp_path: Path
) -> None:
    second = RECORD | {"id": "GHSA-TEST-0002"}
    run(ctx, write(tmp_path / "a" / "feed.json", [RECORD, second]))
    [kept] = run(ctx, write(tmp_path / "b" / "feed.json", [RECORD]))
    assert (kept.removed, kept.records) == (0, 2)  # an update, not a snapshot
    [pruned] = run(ctx, tmp_path / "b" / "feed.json", prune=True)
    assert (pruned.removed, pruned.records) == (1, 1)
    assert lookup(ctx, "PyPI", "some-package") == ["GHSA-TEST-0001"]


def test_invalid_records_are_counted_and_skipped(ctx: RegistryContext, tmp_path: Path) -> None:
    archive = tmp_path / "Broken.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("GOOD.json", json.dumps(RECORD))
        handle.writestr("NOID.json", json.dumps({"summary": "no id"}))
        handle.writestr("BAD.json", "{not json")
        handle.writestr("README.md", "ignored")
    [report] = run(ctx, archive)
    assert counts(report) == (1, 0, 0, 0, 2)


def test_status_and_last_update(ctx: RegistryContext, tmp_path: Path) -> None:
    assert isinstance(ctx.db.clock, ManualClock)
    run(ctx, OSV / "npm-sample")
    ctx.db.clock.advance(timedelta(hours=1))
    run(ctx, OSV / "npm-sample")  # nothing changes: last update stays
    with ctx.db.read() as session:
        [status] = vulndb.status(session)
        assert vulndb.source_updated_at(session) == START
    assert (status.name, status.records, status.withdrawn) == ("osv:npm-sample", 3, 0)
    assert (status.updated_at, status.imported_at) == (START, START + timedelta(hours=1))
    newest = max(json.loads(p.read_text())["modified"] for p in (OSV / "npm-sample").iterdir())
    assert status.last_modified == newest


def test_an_import_that_changes_something_queues_a_continuous_pass(
    ctx: RegistryContext, tmp_path: Path
) -> None:
    run(ctx, write(tmp_path / "a" / "feed.json", [RECORD]))
    run(ctx, write(tmp_path / "a" / "feed.json", [RECORD]))
    with ctx.db.read() as session:
        jobs = session.scalars(select(m.Job.kind).where(m.Job.kind == "scan-continuous")).all()
    assert jobs == ["scan-continuous"]


def zip_of(path: Path, *records: dict[str, Any]) -> Path:
    """An osv.dev-style zip: one JSON file per record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return path


def test_osv_download_layout_names_sources_after_their_ecosystem(
    ctx: RegistryContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """osv.dev serves `<ECOSYSTEM>/all.zip`: each is its own source, so pruning one snapshot
    never deletes another's records."""
    pypi = zip_of(tmp_path / "osvdl" / "PyPI" / "all.zip", RECORD)
    npm_record = RECORD | {
        "id": "GHSA-TEST-NPM",
        "affected": [RECORD["affected"][0] | {"package": {"ecosystem": "npm", "name": "left"}}],
    }
    npm = zip_of(tmp_path / "osvdl" / "npm" / "all.zip", npm_record)
    reports = [*run(ctx, pypi, prune=True), *run(ctx, npm, prune=True)]
    assert [(r.name, r.added, r.removed) for r in reports] == [
        ("osv:PyPI", 1, 0),
        ("osv:npm", 1, 0),
    ]
    assert lookup(ctx, "PyPI", "some-package") == ["GHSA-TEST-0001"]
    monkeypatch.chdir(pypi.parent)  # the same name from wherever the path is given
    [again] = run(ctx, Path("all.zip"), prune=True)
    assert (again.name, again.unchanged, again.removed) == ("osv:PyPI", 1, 0)
    unzipped = write(tmp_path / "osvdl" / "Go" / "all" / "GO-TEST.json", RECORD)
    assert [r.name for r in run(ctx, unzipped.parent)] == ["osv:Go"]
    assert [r.name for r in run(ctx, tmp_path / "osvdl")] == ["osv:osvdl", "osv:PyPI", "osv:npm"]


def test_json_array_items_that_are_not_objects_are_invalid(
    ctx: RegistryContext, tmp_path: Path
) -> None:
    [report] = run(ctx, write(tmp_path / "feed.json", [RECORD, 5, "x", None]))
    assert counts(report) == (1, 0, 0, 0, 3)


def test_a_malformed_secdb_document_is_invalid_and_leaves_no_source(
    ctx: RegistryContext, tmp_path: Path
) -> None:
    path = tmp_path / "v3.99" / "main.yaml"
    path.parent.mkdir()
    path.write_text("distroversion: v3.99\nreponame: main\npackages: 5\n")
    [report] = run(ctx, path)
    assert (report.name, report.records, counts(report)) == (
        "alpine-secdb:v3.99/main", 0, (0, 0, 0, 0, 1),
    )  # fmt: skip
    assert report.problems == [
        f"{path}: not an Alpine secdb document: packages is int 5, not a list"
    ]
    path.write_text("distroversion: v3.99\npackages:\n  - pkg: {name: x, secfixes: {1.0: [\n")
    [unreadable] = run(ctx, path)
    assert (unreadable.name, unreadable.invalid) == ("alpine-secdb:v3.99/main", 1)
    assert "not valid YAML" in unreadable.problems[0]
    not_zip = tmp_path / "Broken.zip"
    not_zip.write_text("not a zip")
    [broken] = run(ctx, not_zip)
    assert (broken.name, broken.invalid, broken.problems) == (
        "osv:Broken", 1, [f"{not_zip}: not a zip archive"],
    )  # fmt: skip
    with ctx.db.read() as session:
        assert vulndb.status(session) == []


def test_secdb_records_have_no_modified_time(ctx: RegistryContext) -> None:
    """A secdb document does not say when an advisory changed: nothing claims 1970."""
    [main] = run(ctx, VULNDB / "alpine-secdb" / "v3.4" / "main.yaml")
    with ctx.db.read() as session:
        [status] = vulndb.status(session)
        modified = set(session.scalars(select(m.VulnRecord.modified)))
    assert (status.name, status.records, status.last_modified) == (
        "alpine-secdb:v3.4/main", main.records, None,
    )  # fmt: skip
    assert modified == {""}
    assert not vulndb.is_older("", "1970-01-01T00:00:00Z")  # so such records replace the epoch


# --- the commands ----------------------------------------------------------------------------


def test_vulndb_commands(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    prepare(settings)
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    empty = runner.invoke(main, ["vulndb", "status", *data])
    assert empty.exit_code == 0, empty.output
    assert "empty" in empty.output
    imported = runner.invoke(
        main, ["vulndb", "import", *data, str(OSV / "npm-sample"), str(DATA / "osv")]
    )
    assert imported.exit_code == 0, imported.output
    assert imported.output.splitlines() == [
        "osv:npm-sample: 3 records, 0 withdrawn (3 added, 0 updated, 0 unchanged, 0 removed, "
        "0 invalid)",
        "osv:osv: 17 records, 1 withdrawn (17 added, 0 updated, 0 unchanged, 0 removed, 0 invalid)",
    ]
    again = runner.invoke(main, ["vulndb", "import", "--json", *data, str(OSV / "npm-sample")])
    assert json.loads(again.output)[0]["unchanged"] == 3
    status = runner.invoke(main, ["vulndb", "status", "--json", *data])
    doc = json.loads(status.output)
    assert [(s["name"], s["records"]) for s in doc["sources"]] == [
        ("osv:npm-sample", 3),
        ("osv:osv", 17),
    ]
    table = runner.invoke(main, ["vulndb", "status", *data])
    assert "20 records in 2 sources" in table.output
    header, npm, osv = table.output.splitlines()[:3]
    assert header.split() == [
        "SOURCE", "RECORDS", "WITHDRAWN", "NEWEST", "MODIFIED", "LAST", "UPDATE", "IMPORTED",
    ]  # fmt: skip
    newest = {s["name"]: s["lastModified"] for s in doc["sources"]}
    assert npm.split()[3] == newest["osv:npm-sample"][:10]
    assert osv.split()[3] == newest["osv:osv"][:10]


def test_vulndb_import_reports_invalid_documents_and_goes_on(tmp_path: Path) -> None:
    settings = load_settings(overrides={"data_dir": tmp_path / "data"})
    prepare(settings)
    broken = tmp_path / "v3.99" / "main.yaml"
    broken.parent.mkdir()
    broken.write_text("distroversion: v3.99\nreponame: main\npackages: 5\n")
    data = ["--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(
        main, ["vulndb", "import", *data, str(OSV / "npm-sample"), str(broken), str(SYNTHETIC)]
    )
    assert result.exit_code == 0, result.output
    assert result.exception is None
    lines = result.output.splitlines()
    assert lines[0].startswith("osv:npm-sample: 3 records")
    assert lines[1:3] == [
        "alpine-secdb:v3.99/main: 0 records, 0 withdrawn (0 added, 0 updated, 0 unchanged, "
        "0 removed, 1 invalid)",
        f"  invalid: {broken}: not an Alpine secdb document: packages is int 5, not a list",
    ]
    assert lines[3].startswith("osv:synthetic: 17 records")
    status = CliRunner().invoke(main, ["vulndb", "status", "--json", *data])
    names = [s["name"] for s in json.loads(status.output)["sources"]]
    assert names == ["osv:npm-sample", "osv:synthetic"]


@pytest.mark.sqlite_only  # with PostgreSQL the database is configured, not found in a directory
def test_vulndb_refuses_a_directory_without_a_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["vulndb", "status", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "no Stiva database" in result.output
