"""Layer analysis: compression detection, what each analyzer reads, links, JSON round-trip."""

from __future__ import annotations

import io
import zipfile

import pytest

from stiva.scanning.errors import AnalysisVersionMismatch
from stiva.scanning.layer import ANALYZER_VERSION, LayerAnalysis, Limits, analyze_layer
from stiva.scanning.packages import Package
from stiva.scanning.records import LANGUAGE, MASK, OS_FILES, OS_PACKAGES, OS_RELEASE, FileRecord
from tests.support.layers import (
    DATA,
    LayerBuilder,
    auditable_binary,
    dist_info,
    go_binary,
    go_binary_legacy,
    metadata,
    package_json,
)
from tests.support.layers import (
    OS_PACKAGES as OS_FIXTURES,
)

GO_MODINFO = (
    "path\texample.com/app\n"
    "mod\texample.com/app\t(devel)\t\n"
    "dep\tgithub.com/gin-gonic/gin\tv1.5.0\th1:abc=\n"
    "dep\tgolang.org/x/net\tv0.0.0-20200202094626-16171245cfb2\th1:def=\n"
    "=>\tgolang.org/x/net\tv0.7.0\th1:ghi=\n"
    "dep\texample.com/local\tv1.0.0\t\n"
    "=>\t../local\t\t\n"
    "build\tGOOS=linux\n"
)


def analyze(blob: bytes, limits: Limits = Limits()) -> LayerAnalysis:  # noqa: B008
    return analyze_layer(io.BytesIO(blob), limits)


def records(analysis: LayerAnalysis) -> dict[str, FileRecord]:
    return {record.path: record for record in analysis.records}


def packages(analysis: LayerAnalysis) -> set[tuple[str, str, str]]:
    return {(p.ecosystem, p.name, p.version) for r in analysis.records for p in r.packages}


@pytest.mark.parametrize(
    ("method", "compression"), [("gzip", "gzip"), ("zstd", "zstd"), ("tar", "none")]
)
def test_compression_is_detected_by_magic(method: str, compression: str) -> None:
    builder = LayerBuilder().file(
        "app/node_modules/lodash/package.json", package_json("lodash", "4.17.20")
    )
    analysis = analyze(getattr(builder, method)())
    assert analysis.compression == compression
    assert packages(analysis) == {("npm", "lodash", "4.17.20")}
    assert analysis.entries == 1


def test_real_debian_status_and_os_release() -> None:
    blob = (
        LayerBuilder()
        .file("./etc/os-release", (OS_FIXTURES / "debian12-os-release").read_bytes())
        .file("./var/lib/dpkg/status", (OS_FIXTURES / "debian12-dpkg-status").read_bytes())
        .gzip()
    )
    found = records(analyze(blob))
    assert found["etc/os-release"].kind == OS_RELEASE
    assert found["etc/os-release"].fields["VERSION_ID"] == "12"
    status = found["var/lib/dpkg/status"]
    assert status.kind == OS_PACKAGES
    assert len(status.packages) == 807  # grep -c '^Package:' (all "install ok installed")
    by_name = {p.name: p for p in status.packages}
    assert (by_name["dmsetup"].source_name, by_name["dmsetup"].source_version) == (
        "lvm2",
        "2.03.16-2",
    )
    assert (by_name["bash"].version, by_name["bash"].source_version) == ("5.2.15-2+b8", "5.2.15-2")
    assert (by_name["zlib1g"].source_name, by_name["zlib1g"].source_version) == (
        "zlib",
        "1:1.2.13.dfsg-1",
    )
    assert by_name["cpp"].source_version == "1.203"


def test_dpkg_status_skips_packages_not_installed() -> None:
    status = (
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
        "Package: here\nStatus: install ok installed\nVersion: 2.0\nSource: src\n"
    )
    found = records(analyze(LayerBuilder().file("var/lib/dpkg/status", status).tar()))
    assert [(p.name, p.source_name) for p in found["var/lib/dpkg/status"].packages] == [
        ("here", "src")
    ]


def test_distroless_status_d_and_md5sums() -> None:
    blob = (
        LayerBuilder()
        .file(
            "var/lib/dpkg/status.d/libssl3",
            "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n",
        )
        .file(
            "var/lib/dpkg/status.d/libssl3.md5sums", "0123  usr/lib/x86_64-linux-gnu/libssl.so.3\n"
        )
        .tar()
    )
    found = records(analyze(blob))
    assert [p.source_name for p in found["var/lib/dpkg/status.d/libssl3"].packages] == ["openssl"]
    assert found["var/lib/dpkg/status.d/libssl3.md5sums"].kind == OS_FILES


@pytest.mark.parametrize("fixture", ["alpine-3.4/lib/apk/db/installed", "trivy-apk-installed"])
def test_real_apk_database_skips_the_broken_entry(fixture: str) -> None:
    blob = LayerBuilder().file("lib/apk/db/installed", (OS_FIXTURES / fixture).read_bytes()).gzip()
    found = records(analyze(blob))["lib/apk/db/installed"]
    names = [p.name for p in found.packages]
    assert "invalidPackageWithoutAVersion" not in names
    assert len(names) == 15
    by_name = {p.name: p for p in found.packages}
    assert (by_name["libssl1.0"].source_name, by_name["libssl1.0"].version) == (
        "openssl",
        "1.0.2h-r1",
    )


def test_real_rpm_sqlite_database_is_read_in_memory() -> None:
    data = (OS_FIXTURES / "rpm-sqlite" / "rpmdb.sqlite").read_bytes()
    found = records(analyze(LayerBuilder().file("usr/lib/sysimage/rpm/rpmdb.sqlite", data).gzip()))
    (package,) = found["usr/lib/sysimage/rpm/rpmdb.sqlite"].packages
    assert (package.name, package.version, package.type) == (
        "demo-openssl-libs",
        "1:3.0.7-16.el9_2",
        "rpm",
    )
    assert (package.source_name, package.source_version) == (
        "demo-openssl-libs",
        "1:3.0.7-16.el9_2",
    )


@pytest.mark.parametrize("fixture", ["Packages-bdb-512", "Packages-bdb-4096"])
def test_berkeley_db_rpm_database(fixture: str) -> None:
    data = (DATA / "rpm" / fixture).read_bytes()
    found = records(analyze(LayerBuilder().file("var/lib/rpm/Packages", data).gzip()))
    assert [(p.name, p.version, p.source_name) for p in found["var/lib/rpm/Packages"].packages] == [
        ("tiny", "1.0-1.el8", "tiny"),
        ("demo-openssl-libs", "1:3.0.7-16.el9_2", "demo-openssl-libs"),
    ]


def test_damaged_berkeley_db_is_a_note_not_a_failure() -> None:
    data = bytearray((DATA / "rpm" / "Packages-bdb-512").read_bytes())
    data[512 * 3 : 512 * 4] = b"\xff" * 512  # one overflow page of the big header destroyed
    analysis = analyze(LayerBuilder().file("var/lib/rpm/Packages", bytes(data)).tar())
    assert [p.name for r in analysis.records for p in r.packages] == ["tiny"]
    analysis = analyze(LayerBuilder().file("var/lib/rpm/Packages", b"\x00" * 4096).tar())
    assert records(analysis)["var/lib/rpm/Packages"].kind == MASK
    assert any("Berkeley DB" in note for note in analysis.notes)
    analysis = analyze(LayerBuilder().file("usr/lib/sysimage/rpm/Packages.db", b"\x00" * 64).tar())
    assert any("NDB" in note for note in analysis.notes)


def test_python_dist_info_and_egg_info_from_real_wheels() -> None:
    python = DATA / "python"
    blob = (
        LayerBuilder()
        .file(
            dist_info("Jinja2", "2.10"),
            (python / "Jinja2-2.10.dist-info" / "METADATA").read_bytes(),
        )
        .file(
            "usr/lib/python3/site-packages/PyYAML-5.3.egg-info/PKG-INFO",
            (python / "PyYAML-5.3.egg-info" / "PKG-INFO").read_bytes(),
        )
        .file(
            "usr/lib/python3/site-packages/Legacy_Thing-1.0.egg-info",
            metadata("Legacy_Thing", "1.0"),
        )
        .gzip()
    )
    assert packages(analyze(blob)) == {
        ("PyPI", "jinja2", "2.10"),
        ("PyPI", "pyyaml", "5.3"),
        ("PyPI", "legacy-thing", "1.0"),  # PEP 503
    }


def test_npm_packages_only_under_node_modules() -> None:
    npm = DATA / "npm"
    blob = (
        LayerBuilder()
        .file(
            "app/node_modules/lodash/package.json",
            (npm / "lodash-4.17.20.package.json").read_bytes(),
        )
        .file("app/node_modules/@babel/core/package.json", package_json("@babel/core", "7.0.0"))
        .file(
            "app/node_modules/lodash/node_modules/minimist/package.json",
            package_json("minimist", "0.2.4"),
        )
        .file("app/package.json", package_json("my-app", "1.0.0"))
        .file("app/node_modules/lodash/lib/package.json", package_json("not-a-package", "1.0.0"))
        .file("app/node_modules/broken/package.json", "{not json")
        .tar()
    )
    assert packages(analyze(blob)) == {
        ("npm", "lodash", "4.17.20"),
        ("npm", "@babel/core", "7.0.0"),
        ("npm", "minimist", "0.2.4"),
    }


def test_gemspecs_and_cargo_lock() -> None:
    gemspec = (
        'Gem::Specification.new do |s|\n  s.name = "rack".freeze\n  s.version = "2.2.3"\nend\n'
    )
    lock = (
        'version = 3\n\n[[package]]\nname = "smallvec"\nversion = "1.6.0"\n'
        'source = "registry+https://github.com/rust-lang/crates.io-index"\n\n'
        '[[package]]\nname = "myapp"\nversion = "0.1.0"\n'
    )
    blob = (
        LayerBuilder()
        .file("usr/local/bundle/specifications/rack-2.2.3.gemspec", gemspec)
        .file("src/app/Cargo.lock", lock)
        .tar()
    )
    assert packages(analyze(blob)) == {
        ("RubyGems", "rack", "2.2.3"),
        ("crates.io", "smallvec", "1.6.0"),
    }


def test_go_binary_build_info_with_replacements_and_stdlib() -> None:
    blob = (
        LayerBuilder()
        .file("usr/local/bin/app", go_binary("go1.21rc2", GO_MODINFO), mode=0o755)
        .tar()
    )
    assert packages(analyze(blob)) == {
        ("Go", "github.com/gin-gonic/gin", "v1.5.0"),
        ("Go", "golang.org/x/net", "v0.7.0"),  # the replacement, not the original
        ("Go", "stdlib", "1.21.0-rc.2"),
    }


def test_go_binary_before_go_1_18_uses_pointers() -> None:
    binary = go_binary_legacy("go1.16.5", GO_MODINFO)
    blob = LayerBuilder().file("usr/local/bin/old", binary, mode=0o755).tar()
    assert packages(analyze(blob)) == {
        ("Go", "github.com/gin-gonic/gin", "v1.5.0"),
        ("Go", "golang.org/x/net", "v0.7.0"),
        ("Go", "stdlib", "1.16.5"),
    }


def test_jar_without_pom_properties_falls_back_to_its_manifest() -> None:
    raw = io.BytesIO()
    manifest = (
        "Manifest-Version: 1.0\r\nImplementation-Vendor-Id: commons-io\r\n"
        "Implementation-Version: 2.6\r\nImplementation-Title: Apache Commons IO\r\n"
    )
    with zipfile.ZipFile(raw, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)
    blob = (
        LayerBuilder()
        .file("app/lib/commons-io-2.6.jar", raw.getvalue())
        .file("app/lib/unknown.jar", raw.getvalue())  # the file name must carry the version
        .tar()
    )
    assert packages(analyze(blob)) == {("Maven", "commons-io:commons-io", "2.6")}


def test_go_binary_larger_than_max_file_bytes_is_streamed() -> None:
    binary = go_binary("go1.20.3 X:boringcrypto", GO_MODINFO, padding=300_000)
    blob = LayerBuilder().file("usr/local/bin/big", binary, mode=0o755).tar()
    found = packages(analyze(blob, Limits(max_file_bytes=100_000)))
    assert ("Go", "stdlib", "1.20.3") in found
    assert ("Go", "github.com/gin-gonic/gin", "v1.5.0") in found


def test_non_executable_or_non_elf_files_are_not_read_as_binaries() -> None:
    blob = (
        LayerBuilder()
        .file("usr/share/app.bin", go_binary("go1.20", GO_MODINFO), mode=0o644)
        .file("usr/bin/script", "#!/bin/sh\n" + "x" * 100, mode=0o755)
        .tar()
    )
    assert analyze(blob).records == ()


def test_cargo_auditable_binary() -> None:
    binary = auditable_binary(
        [
            {"name": "myapp", "version": "0.1.0", "source": "local", "root": True},
            {"name": "smallvec", "version": "1.6.0", "source": "crates.io"},
            {"name": "cc", "version": "1.0.0", "source": "crates.io", "kind": "build"},
        ]
    )
    blob = LayerBuilder().file("usr/bin/myapp", binary, mode=0o755).tar()
    assert packages(analyze(blob)) == {("crates.io", "smallvec", "1.6.0")}


def test_whiteouts_and_opaque_directories_are_recorded() -> None:
    blob = (
        LayerBuilder()
        .whiteout("usr/lib/python3/site-packages/Jinja2-2.10.dist-info")
        .opaque("app/node_modules")
        .file("a/.wh..wh.plnk", b"")  # aufs bookkeeping: ignored
        .tar()
    )
    analysis = analyze(blob)
    assert analysis.whiteouts == ("usr/lib/python3/site-packages/Jinja2-2.10.dist-info",)
    assert analysis.opaque_dirs == ("app/node_modules",)


def test_symlink_at_an_analyzed_path_is_a_mask_and_is_not_followed() -> None:
    blob = (
        LayerBuilder()
        .file("etc/shadow-copy", "Package: secret\nVersion: 1\n")
        .symlink("var/lib/dpkg/status", "../../../etc/shadow-copy")
        .tar()
    )
    found = records(analyze(blob))
    assert found == {"var/lib/dpkg/status": FileRecord("var/lib/dpkg/status", MASK)}


def test_hardlink_to_an_analyzed_file_of_the_same_layer_repeats_its_record() -> None:
    meta = metadata("six", "1.16.0")
    blob = (
        LayerBuilder()
        .file(dist_info("six", "1.16.0"), meta)
        .hardlink(
            dist_info("six", "1.16.0", site="opt/venv/lib/site-packages"),
            dist_info("six", "1.16.0"),
        )
        .tar()
    )
    paths = {p.path for r in analyze(blob).records for p in r.packages}
    assert paths == {
        dist_info("six", "1.16.0"),
        dist_info("six", "1.16.0", site="opt/venv/lib/site-packages"),
    }


def test_oversized_package_database_is_a_note_and_a_mask() -> None:
    blob = LayerBuilder().file("var/lib/dpkg/status", "Package: a\nVersion: 1\n" * 100).tar()
    analysis = analyze(blob, Limits(max_file_bytes=100))
    assert records(analysis)["var/lib/dpkg/status"].kind == MASK
    assert len(analysis.notes) == 1
    assert "larger than 100 bytes" in analysis.notes[0]


def test_os_file_lists_keep_only_what_merge_needs() -> None:
    listing = (
        "/.\n/usr\n/usr/bin/tool\n/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA\n"
    )
    blob = LayerBuilder().file("var/lib/dpkg/info/python3-yaml.list", listing).tar()
    record = records(analyze(blob))["var/lib/dpkg/info/python3-yaml.list"]
    assert record.owned == ("usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",)


def test_owned_binaries_of_the_same_layer_are_kept() -> None:
    blob = (
        LayerBuilder()
        .file("var/lib/dpkg/info/golang-app.list", "/bin/app\n/usr/share/doc/app/README\n")
        .file("usr/bin/app", go_binary("go1.20", GO_MODINFO), mode=0o755)
        .tar()
    )
    record = records(analyze(blob))["var/lib/dpkg/info/golang-app.list"]
    assert record.owned == ("usr/bin/app",)  # /bin is /usr/bin on merged-usr systems


def test_json_round_trip_and_version_check() -> None:
    blob = (
        LayerBuilder()
        .file("etc/os-release", (OS_FIXTURES / "debian12-os-release").read_bytes())
        .file(dist_info("Jinja2", "2.10"), metadata("Jinja2", "2.10"))
        .whiteout("tmp/x")
        .gzip()
    )
    analysis = analyze(blob)
    assert analysis.analyzer_version == ANALYZER_VERSION
    assert LayerAnalysis.from_json(analysis.to_json()) == analysis
    assert LayerAnalysis.from_dict(analysis.to_dict()) == analysis
    stale = {**analysis.to_dict(), "analyzer_version": "0"}
    with pytest.raises(AnalysisVersionMismatch):
        LayerAnalysis.from_dict(stale)


def test_package_round_trip_drops_empty_fields() -> None:
    package = Package("jinja2", "2.10", "PyPI", LANGUAGE, "pypi", "x/METADATA")
    assert package.to_dict() == {
        "name": "jinja2",
        "version": "2.10",
        "ecosystem": "PyPI",
        "kind": "language",
        "type": "pypi",
        "path": "x/METADATA",
    }
    assert Package.from_dict(package.to_dict()) == package
