"""Known-answer scans: images assembled with tarfile from real package data, matched against
real advisory databases (PyPI, Go, crates.io, npm samples, Alpine secdb) and a few synthetic
records (Debian, Maven, RubyGems: `tests/data/scanning/osv/synthetic.json`). The expected
findings are listed exactly; so are the cases that must not be reported.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import yaml

from stiva.scanning.inventory import Inventory, merge
from stiva.scanning.layer import analyze_layer
from stiva.scanning.match import Finding, fixed_version, is_affected, match
from stiva.scanning.osv import alpine_secdb_to_osv, merge_records, parse_osv
from tests.support.layers import (
    DATA,
    OS_PACKAGES,
    VULNDB,
    AdvisoryIndex,
    LayerBuilder,
    go_binary,
    osv_records,
)
from tests.support.scanning import (
    EXPECTED_DEBIAN,
    EXPECTED_LANGUAGE,
    application,
    cleanup,
    debian_base,
)


@pytest.fixture(scope="module")
def advisories() -> AdvisoryIndex:
    records = []
    for name in ("PyPI.zip", "Go.zip", "crates.io.zip", "npm-sample"):
        records += osv_records(VULNDB / "osv" / name)
    records += json.loads((DATA / "osv" / "synthetic.json").read_text())
    return AdvisoryIndex(records)


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    blobs = [debian_base().gzip(), application().zstd(), cleanup().tar()]
    return merge([analyze_layer(io.BytesIO(blob)) for blob in blobs])


def summary(findings: list[Finding]) -> Iterator[tuple[str, str, str, str | None, str]]:
    for f in findings:
        yield (f.advisory_id, f.package.name, f.installed_version, f.fixed_version, f.severity)


def test_known_answer_image(inventory: Inventory, advisories: AdvisoryIndex) -> None:
    found = set(summary(match(inventory, advisories)))
    assert {f for f in found if f[0].startswith("DEBIAN")} == EXPECTED_DEBIAN
    assert {f for f in found if not f[0].startswith("DEBIAN")} == EXPECTED_LANGUAGE
    assert len(found) == len(EXPECTED_DEBIAN) + len(EXPECTED_LANGUAGE)


@pytest.mark.parametrize(
    ("advisory", "why"),
    [
        ("DEBIAN-TEST-0002", "fixed exactly at the installed source version"),
        ("DEBIAN-TEST-0004", "the installed epoch makes it newer than the fix"),
        ("DEBIAN-TEST-0006", "withdrawn"),
        ("DEBIAN-TEST-0007", "another Debian release"),
        ("DEBIAN-TEST-0009", "above last_affected"),
        ("DEBIAN-TEST-0010", "beyond the limit"),
        ("DEBIAN-TEST-0011", "Debian advisories name source packages, not binaries"),
        ("DEBIAN-TEST-0014", "GIT ranges are not evaluated"),
        ("GHSA-p6mc-m468-83gw", "lodash 4.17.20 is the exact fixed version"),
        ("GHSA-TEST-rack-old", "rack 2.2.3 is the exact fixed version"),
        ("PYSEC-2019-144", "withdrawn (arrayfire)"),
        ("PYSEC-2018-28", "requests was whited out in the top layer"),
        ("PYSEC-2023-74", "requests was whited out in the top layer"),
        ("RUSTSEC-2021-0139", "informational (unmaintained) notices are not findings by default"),
    ],
)
def test_not_reported(
    inventory: Inventory, advisories: AdvisoryIndex, advisory: str, why: str
) -> None:
    assert advisory not in {f.advisory_id for f in match(inventory, advisories)}, why


def test_os_owned_python_packages_are_not_matched_as_pypi(
    inventory: Inventory, advisories: AdvisoryIndex
) -> None:
    pypi = {(p.name, p.version) for p in inventory.packages if p.ecosystem == "PyPI"}
    assert ("urllib3", "1.26.12") not in pypi  # python3-urllib3 owns it: PYSEC-2023-192 would fire
    assert ("pyyaml", "6.0") not in pypi
    assert ("pyyaml", "5.3") in pypi
    urllib3 = [f for f in match(inventory, advisories) if f.package.name == "urllib3"]
    assert {f.package.version for f in urllib3} == {"1.24.1"}


def test_nested_archives_are_reported_with_their_path(inventory: Inventory) -> None:
    maven = {(p.name, p.version, p.path) for p in inventory.packages if p.ecosystem == "Maven"}
    assert maven == {
        ("com.example:shop", "1.0.0", "opt/shop/shop.war"),
        (
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "opt/shop/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar",
        ),
    }


def test_informational_notices_on_request(inventory: Inventory, advisories: AdvisoryIndex) -> None:
    findings = match(inventory, advisories, include_informational=True)
    notice = next(f for f in findings if f.advisory_id == "RUSTSEC-2021-0139")
    assert (notice.package.name, notice.severity, notice.source) == (
        "ansi_term",
        "INFORMATIONAL",
        "vendor",
    )


def test_severity_sources_and_order(inventory: Inventory, advisories: AdvisoryIndex) -> None:
    findings = match(inventory, advisories)
    by_id = {(f.advisory_id, f.package.name): f for f in findings}
    lvm2 = by_id["DEBIAN-TEST-0001", "dmsetup"]
    assert (lvm2.severity, lvm2.source, lvm2.score) == ("LOW", "vendor", 9.8)  # vendor first
    zlib = by_id["DEBIAN-TEST-0003", "zlib1g"]
    assert (zlib.severity, zlib.source, zlib.score) == ("HIGH", "cvss", 7.5)  # "not yet assigned"
    lodash = by_id["GHSA-35jh-r3h4-6jhm", "lodash"]
    assert (lodash.severity, lodash.source, lodash.vector) == (
        "HIGH",
        "vendor",
        "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
    )
    assert lodash.uri == "https://nvd.nist.gov/vuln/detail/CVE-2021-23337"  # its ADVISORY link
    assert lodash.aliases == ("CVE-2021-23337",)
    ranks = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"]
    order = [ranks.index(f.severity) for f in findings]
    assert order == sorted(order)


def test_go_standard_library(advisories: AdvisoryIndex) -> None:
    blob = LayerBuilder().file(
        "bin/app", go_binary("go1.20.3", "mod\texample.com/app\tv1.0.0\t\n"), mode=0o755
    )
    findings = match(merge([analyze_layer(io.BytesIO(blob.tar()))]), advisories)
    stdlib = {f.advisory_id for f in findings if f.package.name == "stdlib"}
    assert {"GO-2023-1751", "GO-2023-1752", "GO-2023-1753"} <= stdlib  # fixed in 1.20.4
    assert "GO-2023-1704" not in stdlib  # fixed in 1.20.3 itself
    assert all(f.installed_version == "1.20.3" for f in findings)


ALPINE_ONLY_OPENSSL = [
    "CVE-2016-2179", "CVE-2016-2180", "CVE-2016-2181", "CVE-2016-2182", "CVE-2016-2183",
    "CVE-2016-6302", "CVE-2016-6303", "CVE-2016-6304", "CVE-2016-6306", "CVE-2016-7052",
    "CVE-2016-7055", "CVE-2017-3731", "CVE-2017-3732", "CVE-2017-3735", "CVE-2017-3736",
    "CVE-2017-3737", "CVE-2017-3738", "CVE-2018-0732", "CVE-2018-0733", "CVE-2018-0734",
    "CVE-2018-0737", "CVE-2018-0739", "CVE-2018-5407",
]  # fmt: skip


def _secdb(release: str) -> list[dict[str, object]]:
    records = []
    for repo in ("main", "community"):
        document = yaml.safe_load((VULNDB / "alpine-secdb" / release / f"{repo}.yaml").read_text())
        records += alpine_secdb_to_osv(document)
    return records


def test_known_answer_alpine_3_4_with_real_secdb() -> None:
    index = AdvisoryIndex(merge_records(_secdb("v3.4") + _secdb("v3.5")))
    root = OS_PACKAGES / "alpine-3.4"
    blob = (
        LayerBuilder()
        .file("etc/os-release", (root / "etc" / "os-release").read_bytes())
        .file("lib/apk/db/installed", (root / "lib" / "apk" / "db" / "installed").read_bytes())
        .gzip()
    )
    findings = match(merge([analyze_layer(io.BytesIO(blob))]), index)
    found = {
        (f.advisory_id, f.package.name, f.installed_version, f.fixed_version) for f in findings
    }
    expected = {
        ("ALPINE-CVE-2016-6301", "busybox", "1.24.2-r9", "1.24.2-r12"),
        ("ALPINE-CVE-2017-15873", "busybox", "1.24.2-r9", "1.24.2-r13"),
        ("ALPINE-CVE-2017-16544", "busybox", "1.24.2-r9", "1.24.2-r13"),
        ("ALPINE-CVE-2016-8859", "musl", "1.1.14-r10", "1.1.14-r13"),
        ("ALPINE-CVE-2016-8859", "musl-utils", "1.1.14-r10", "1.1.14-r13"),
        ("ALPINE-CVE-2017-15650", "musl", "1.1.14-r10", "1.1.14-r16"),
        ("ALPINE-CVE-2017-15650", "musl-utils", "1.1.14-r10", "1.1.14-r16"),
        *((f"ALPINE-CVE-2016-984{n}", "zlib", "1.2.8-r2", "1.2.11-r0") for n in range(4)),
    }
    assert {f for f in found if "openssl" not in f[1] and not f[1].startswith("lib")} == expected
    openssl = {(f[0], f[1]) for f in found if f[1] in ("libcrypto1.0", "libssl1.0")}
    assert openssl == {
        (f"ALPINE-{c}", b) for c in ALPINE_ONLY_OPENSSL for b in ("libcrypto1.0", "libssl1.0")
    }
    assert len(found) == len(expected) + 2 * len(ALPINE_ONLY_OPENSSL)
    assert "ALPINE-CVE-2016-2147" not in {f[0] for f in found}  # busybox fixed in 1.24.2-r0
    assert all(f.package.ecosystem == "Alpine:v3.4" for f in findings)


def test_matching_is_a_pure_function_of_the_cached_inventory(
    inventory: Inventory, advisories: AdvisoryIndex
) -> None:
    again = Inventory.from_json(inventory.to_json())
    assert match(again, advisories) == match(inventory, advisories)


def test_versions_past_pythons_digit_limit_leave_their_ranges_out() -> None:
    """`1.1.999…` (5000 digits) makes int() raise ValueError: matching ignores what it cannot
    compare, as it ignores any unreadable version, instead of failing the scan."""
    huge = "9" * 5000
    events = [[f"1.1.{huge}-r0"], ["1.1.16.1-r0", f"1.1.16.{huge}-r0"]]
    record = {
        "id": "ALPINE-TEST-HUGE",
        "modified": "2026-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "Alpine:v3.4", "name": "musl"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                    for fixes in events
                    for fixed in fixes
                ],
            }
        ],
    }
    [affected] = parse_osv(record).affected
    assert not is_affected(affected, f"1.1.{huge}-r0", "Alpine:v3.4")
    assert is_affected(affected, "1.1.14-r10", "Alpine:v3.4")
    assert fixed_version(affected, "1.1.14-r10", "Alpine:v3.4") == "1.1.16.1-r0"
