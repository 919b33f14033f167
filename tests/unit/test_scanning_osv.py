"""OSV parsing, Alpine secdb conversion, range evaluation and severity: real and small records."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import yaml

from stiva.scanning import secdb
from stiva.scanning.errors import InvalidAdvisory
from stiva.scanning.inventory import Inventory
from stiva.scanning.match import in_range, is_affected, match
from stiva.scanning.osv import (
    Advisory,
    Event,
    Range,
    alpine_secdb_to_osv,
    index_ecosystem,
    index_keys,
    merge_records,
    normalize_package_name,
    parse_osv,
)
from stiva.scanning.packages import Package
from stiva.scanning.schemes import semver
from stiva.scanning.severity import rate, score_vector, vendor_word
from tests.support.layers import VULNDB, osv_records


@pytest.mark.parametrize(
    ("name", "count", "withdrawn"),
    [("PyPI.zip", 2661, 10), ("Go.zip", 4291, 17), ("crates.io.zip", 1206, 13)],
)
def test_every_real_record_parses(name: str, count: int, withdrawn: int) -> None:
    advisories = [parse_osv(record) for record in osv_records(VULNDB / "osv" / name)]
    assert len(advisories) == count
    assert sum(a.is_withdrawn for a in advisories) == withdrawn
    assert all(a.affected for a in advisories)


def test_unsorted_events_and_git_ranges_are_kept_as_written() -> None:
    (record,) = [r for r in osv_records(VULNDB / "osv" / "PyPI.zip") if r["id"] == "PYSEC-2023-192"]
    (affected,) = parse_osv(record).affected
    assert [r.type for r in affected.ranges] == ["GIT", "ECOSYSTEM"]
    assert [e.value for e in affected.ranges[1].events] == ["2.0.0", "2.0.6", "0", "1.26.17"]
    assert affected.fixed_versions() == ("2.0.6", "1.26.17")
    assert is_affected(affected, "1.26.16", "PyPI")
    assert not is_affected(affected, "1.26.17", "PyPI")
    assert is_affected(affected, "2.0.5", "PyPI")
    assert not is_affected(affected, "2.0.6", "PyPI")


PYPA_YAML = """
id: PYSEC-2099-1
modified: 2024-01-02T03:04:05.123456Z
published: 2024-01-01T00:00:00Z
aliases: [CVE-2099-1]
details: example
affected:
- package:
    name: Some_Package
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: "1.0"
  versions:
- ranges:
  - type: GIT
    repo: https://github.com/python/cpython
    events:
    - introduced: "0"
    - fixed: 0123456789abcdef0123456789abcdef01234567
"""


def test_pypa_yaml_quirks_timestamps_null_versions_and_packageless_entries() -> None:
    advisory = parse_osv(yaml.safe_load(PYPA_YAML))
    assert advisory.modified.startswith("2024-01-02T03:04:05")
    (affected,) = advisory.affected  # the GIT-only entry without a package is dropped
    assert affected.versions == ()
    assert affected.key == ("PyPI", "some-package")
    assert index_keys(advisory) == [("PyPI", "some-package")]


def test_record_without_an_id_is_invalid() -> None:
    with pytest.raises(InvalidAdvisory):
        parse_osv({"modified": "x"})


@pytest.mark.parametrize(
    ("ecosystem", "name", "expected"),
    [
        ("PyPI", "Jinja2", "jinja2"),
        ("PyPI", "ruamel.yaml", "ruamel-yaml"),
        ("PyPI", "Foo__Bar", "foo-bar"),
        ("npm", "@Babel/Core", "@Babel/Core"),
        ("Debian:12", "lvm2", "lvm2"),
    ],
)
def test_normalize_package_name(ecosystem: str, name: str, expected: str) -> None:
    assert normalize_package_name(ecosystem, name) == expected


def test_red_hat_streams_index_under_their_release() -> None:
    assert index_ecosystem("Red Hat:enterprise_linux:9::appstream") == "Red Hat:enterprise_linux:9"
    assert index_ecosystem("Red Hat:enterprise_linux:9") == "Red Hat:enterprise_linux:9"
    assert index_ecosystem("Debian:12") == "Debian:12"


def _range(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> Range:
    return Range(kind, tuple(Event(k, v) for k, v in events))


@pytest.mark.parametrize(
    ("events", "version", "expected"),
    [
        ([("introduced", "0")], "0.0.1", True),
        (
            [
                ("introduced", "1.0.0"),
                ("fixed", "1.0.2"),
                ("introduced", "3.0.0"),
                ("fixed", "3.2.5"),
            ],
            "2.0.0",
            False,
        ),
        (
            [
                ("introduced", "1.0.0"),
                ("fixed", "1.0.2"),
                ("introduced", "3.0.0"),
                ("fixed", "3.2.5"),
            ],
            "3.1.0",
            True,
        ),
        ([("introduced", "0"), ("last_affected", "2.1.214")], "2.1.214", True),
        ([("introduced", "0"), ("last_affected", "2.1.214")], "2.1.215", False),
        ([("introduced", "0"), ("limit", "2.0.0")], "1.9.9", True),
        ([("introduced", "0"), ("limit", "2.0.0")], "2.0.0", False),
        ([("introduced", "0"), ("limit", "1.0.0"), ("limit", "*")], "5.0.0", True),
        ([("fixed", "1.0.2"), ("introduced", "1.0.0")], "1.0.1", True),
        ([("introduced", "1.0.0"), ("fixed", "1.0.0")], "1.0.0", False),
    ],
)
def test_normative_range_evaluation(
    events: Sequence[tuple[str, str]], version: str, expected: bool
) -> None:
    assert in_range(_range(*events), version, semver.compare) is expected


def _package(ecosystem: str, name: str, version: str) -> Package:
    return Package(name, version, ecosystem, "language", "generic", "x")


def _lookup(*records: dict[str, object]) -> Callable[[str, str], list[Advisory]]:
    advisories = [parse_osv(r) for r in records]

    def lookup(ecosystem: str, name: str) -> list[Advisory]:
        return [a for a in advisories if (ecosystem, name) in index_keys(a)]

    return lookup


def test_unparsable_versions_skip_the_range_not_the_scan() -> None:
    record = {
        "id": "X-1",
        "modified": "",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "a"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": "not a version"}],
                    },
                    {"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.5.0"}]},
                ],
            }
        ],
    }
    inventory = Inventory(None, (_package("npm", "a", "1.2.0"), _package("npm", "a", "2.0.0")))
    found = [(f.package.version, f.fixed_version) for f in match(inventory, _lookup(record))]
    assert found == [("1.2.0", "1.5.0")]


def test_packages_of_unknown_ecosystems_are_not_matched() -> None:
    record = {
        "id": "X-2",
        "modified": "",
        "affected": [
            {
                "package": {"ecosystem": "Plan9", "name": "a"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    inventory = Inventory(None, (_package("Plan9", "a", "1"),))
    assert match(inventory, _lookup(record)) == []


def test_affected_entries_of_other_packages_in_the_same_record_do_not_match() -> None:
    (record,) = [
        r for r in osv_records(VULNDB / "osv" / "npm-sample") if r["id"] == "GHSA-35jh-r3h4-6jhm"
    ]
    inventory = Inventory(
        None, (_package("npm", "lodash-es", "4.17.21"), _package("npm", "lodash", "4.17.15"))
    )
    found = [(f.package.name, f.fixed_version) for f in match(inventory, _lookup(record))]
    assert found == [("lodash", "4.17.21")]


def test_two_entries_for_one_package_pick_the_matching_branch() -> None:
    (record,) = [
        r for r in osv_records(VULNDB / "osv" / "npm-sample") if r["id"] == "GHSA-xvch-5gv4-984h"
    ]
    for version, fixed in [("0.2.3", "0.2.4"), ("1.2.5", "1.2.6")]:
        inventory = Inventory(None, (_package("npm", "minimist", version),))
        assert [f.fixed_version for f in match(inventory, _lookup(record))] == [fixed]
    for version in ("0.2.4", "1.2.6"):
        inventory = Inventory(None, (_package("npm", "minimist", version),))
        assert match(inventory, _lookup(record)) == []


SECDB = {
    "distroversion": "v3.18",
    "reponame": "main",
    "packages": [
        {
            "pkg": {
                "name": "xen",
                "secfixes": {"4.17.0-r1": ["CVE-2022-1 XSA-400"], "0": ["CVE-2000-1"]},
            }
        },
        {
            "pkg": {
                "name": "openssl",
                "secfixes": {"3.1.1-r0": ["CVE-2023-1"], "3.1.0-r4": ["CVE-2023-1", "CVE-2023-2"]},
            }
        },
        {"pkg": {"name": "empty", "secfixes": None}},
    ],
}


def test_alpine_secdb_conversion() -> None:
    records = {r["id"]: r for r in alpine_secdb_to_osv(SECDB)}
    assert sorted(records) == [
        "ALPINE-CVE-2022-1",
        "ALPINE-CVE-2023-1",
        "ALPINE-CVE-2023-2",
    ]  # "0" never affected
    xen = records["ALPINE-CVE-2022-1"]
    assert xen["aliases"] == ["CVE-2022-1", "XSA-400"]
    assert xen["affected"] == [
        {
            "package": {"ecosystem": "Alpine:v3.18", "name": "xen", "purl": "pkg:apk/alpine/xen"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.17.0-r1"}]}
            ],
        }
    ]
    fixed = records["ALPINE-CVE-2023-1"]["affected"][0]["ranges"][0]["events"][1]["fixed"]
    assert fixed == "3.1.0-r4"  # the lowest fix when a CVE is listed twice
    assert parse_osv(records["ALPINE-CVE-2023-2"]).affected[0].key == ("Alpine:v3.18", "openssl")
    assert alpine_secdb_to_osv({"distroversion": "edge", "packages": []}) == []
    assert all("modified" not in r for r in records.values())  # secdb dates nothing


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"distroversion": "v3.99", "reponame": "main", "packages": 5}, "packages is int 5"),
        ({"distroversion": "v3.99", "packages": {"pkg": {}}}, "packages is dict"),
        ({"distroversion": "edge", "packages": []}, "distroversion 'edge' is not"),
        ({"packages": []}, "distroversion None is not"),
        (["distroversion", "v3.18"], "not a mapping"),
    ],
)
def test_malformed_secdb_documents_say_why(document: Any, problem: str) -> None:
    assert (secdb.problem(document) or "").startswith(problem)
    if isinstance(document, dict):
        assert alpine_secdb_to_osv(document) == []
    assert secdb.problem(SECDB) is None
    assert secdb.problem({"distroversion": "v3.18", "packages": None}) is None


def test_real_secdb_documents_convert_and_merge_across_releases() -> None:
    records = []
    for release in ("v3.10", "v3.11"):
        document = yaml.safe_load((VULNDB / "alpine-secdb" / release / "main.yaml").read_text())
        records += alpine_secdb_to_osv(document, modified="2020-06-01T00:00:00Z")
    merged = merge_records(records)
    assert len(merged) < len(records)
    ecosystems = {a["package"]["ecosystem"] for r in merged for a in r["affected"]}
    assert ecosystems == {"Alpine:v3.10", "Alpine:v3.11"}
    assert all(parse_osv(r).modified == "2020-06-01T00:00:00Z" for r in merged)


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CRITICAL", 9.8)),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ("HIGH", 8.1)),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", ("MEDIUM", 6.1)),
        ("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", ("LOW", 1.8)),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", ("INFORMATIONAL", 0.0)),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", ("CRITICAL", 9.3)),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", ("HIGH", 7.5)),
        ("CVSS:3.1/AV:X/garbage", None),
    ],
)
def test_cvss_vectors(vector: str, expected: tuple[str, float] | None) -> None:
    assert score_vector(vector) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("MODERATE", "MEDIUM"),
        ("important", "HIGH"),
        ("unimportant", "INFORMATIONAL"),
        ("negligible", "INFORMATIONAL"),
        ("low**", "LOW"),
        ("not yet assigned", None),
        (None, None),
    ],
)
def test_vendor_words(word: str | None, expected: str | None) -> None:
    assert vendor_word(word) == expected


def test_rustsec_cvss_in_database_specific_and_ubuntu_priorities() -> None:
    rustsec = parse_osv(
        {
            "id": "R",
            "modified": "",
            "affected": [
                {
                    "package": {"ecosystem": "crates.io", "name": "a"},
                    "database_specific": {"cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},
                }
            ],
        }
    )
    assert rate(rustsec, rustsec.affected[0]).severity == "HIGH"
    ubuntu = parse_osv(
        {
            "id": "U",
            "modified": "",
            "severity": [
                {"type": "Ubuntu", "score": "medium"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            ],
            "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "a"}}],
        }
    )
    rating = rate(ubuntu, ubuntu.affected[0])
    assert (rating.severity, rating.source, rating.score) == ("MEDIUM", "vendor", 9.8)
    bare = parse_osv(
        {"id": "B", "modified": "", "affected": [{"package": {"ecosystem": "Go", "name": "a"}}]}
    )
    assert rate(bare, bare.affected[0]).severity == "UNDEFINED"


def test_dates_from_yaml_are_strings() -> None:
    advisory = parse_osv(
        {"id": "D", "modified": datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC), "affected": []}
    )
    assert advisory.modified == "2024-01-02T00:00:00+00:00"
