"""Merging layer analyses into an image inventory: whiteouts, opaque dirs, OS, ownership."""

from __future__ import annotations

import io

import pytest

from stiva.scanning.inventory import Inventory, merge
from stiva.scanning.layer import LayerAnalysis, analyze_layer
from stiva.scanning.packages import OsInfo
from tests.support.layers import (
    DATA,
    OS_PACKAGES,
    LayerBuilder,
    dist_info,
    go_binary,
    metadata,
    package_json,
)

DEBIAN_RELEASE = (OS_PACKAGES / "debian12-os-release").read_bytes()
ALPINE_RELEASE = (OS_PACKAGES / "alpine-3.4" / "etc" / "os-release").read_bytes()
APK_DB = (OS_PACKAGES / "alpine-3.4" / "lib" / "apk" / "db" / "installed").read_bytes()


def layer(builder: LayerBuilder) -> LayerAnalysis:
    return analyze_layer(io.BytesIO(builder.gzip()))


def language(inventory: Inventory) -> set[tuple[str, str, str]]:
    return {(p.ecosystem, p.name, p.version) for p in inventory.packages if p.kind == "language"}


def test_debian_image_packages_get_the_release_ecosystem() -> None:
    base = layer(
        LayerBuilder()
        .file("usr/lib/os-release", DEBIAN_RELEASE)
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("var/lib/dpkg/status", (OS_PACKAGES / "debian12-dpkg-status").read_bytes())
    )
    inventory = merge([base])
    assert inventory.os == OsInfo("debian", "12", "Debian:12", "Debian GNU/Linux 12 (bookworm)")
    assert len(inventory.packages) == 807
    assert {p.ecosystem for p in inventory.packages} == {"Debian:12"}
    dmsetup = next(p for p in inventory.packages if p.name == "dmsetup")
    assert dmsetup.purl == "pkg:deb/debian/dmsetup@2:1.02.185-2?arch=amd64&distro=debian-12"
    assert (dmsetup.source_name, dmsetup.source_version) == ("lvm2", "2.03.16-2")


def test_alpine_repositories_override_version_id() -> None:
    base = layer(
        LayerBuilder().file("etc/os-release", ALPINE_RELEASE).file("lib/apk/db/installed", APK_DB)
    )
    assert merge([base]).os == OsInfo("alpine", "3.4.6", "Alpine:v3.4", "Alpine Linux v3.4")
    upgraded = layer(
        LayerBuilder().file(
            "etc/apk/repositories",
            "http://dl-cdn.alpinelinux.org/alpine/v3.5/main\nhttp://dl-cdn.alpinelinux.org/alpine/v3.5/community\n",
        )
    )
    inventory = merge([base, upgraded])
    assert inventory.os is not None
    assert inventory.os.ecosystem == "Alpine:v3.5"
    musl = next(p for p in inventory.packages if p.name == "musl")
    assert (musl.ecosystem, musl.source_name, musl.purl) == (
        "Alpine:v3.5",
        "musl",
        "pkg:apk/alpine/musl@1.1.14-r10?arch=x86_64&distro=3.4.6",
    )


@pytest.mark.parametrize(
    ("os_release", "expected"),
    [
        (
            'ID=debian\nVERSION_CODENAME=trixie\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n',
            "Debian:13",
        ),
        ("ID=debian\n", "Debian:sid"),
        (
            'ID=ubuntu\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\n',
            "Ubuntu:22.04:LTS",
        ),
        ('ID=ubuntu\nVERSION_ID="23.10"\n', "Ubuntu:23.10"),
        ('ID="rhel"\nVERSION_ID="9.2"\n', "Red Hat:enterprise_linux:9"),
        ('ID="rocky"\nVERSION_ID="9.3"\n', "Rocky Linux:9"),
        ('ID="almalinux"\nVERSION_ID="8.9"\n', "AlmaLinux:8"),
        (
            'ID="opensuse-leap"\nVERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"\n',
            "openSUSE:Leap 15.5",
        ),
        ("ID=wolfi\n", "Wolfi"),
        ("ID=plan9\nVERSION_ID=4\n", None),
    ],
)
def test_os_ecosystem_names(os_release: str, expected: str | None) -> None:
    inventory = merge([layer(LayerBuilder().file("etc/os-release", os_release))])
    assert inventory.os is not None
    assert inventory.os.ecosystem == expected


def test_debian_version_file_stands_in_for_a_missing_os_release() -> None:
    inventory = merge([layer(LayerBuilder().file("etc/debian_version", "11.7\n"))])
    assert inventory.os == OsInfo("debian", "11.7", "Debian:11", "")


def test_etc_os_release_wins_over_usr_lib() -> None:
    base = layer(
        LayerBuilder()
        .file("usr/lib/os-release", "ID=debian\nVERSION_ID=11\n")
        .file("etc/os-release", DEBIAN_RELEASE)
    )
    assert merge([base]).os == OsInfo("debian", "12", "Debian:12", "Debian GNU/Linux 12 (bookworm)")


def test_rpm_packages_in_a_rhel_image() -> None:
    base = layer(
        LayerBuilder()
        .file("etc/os-release", 'ID="rhel"\nVERSION_ID="9.2"\n')
        .file(
            "var/lib/rpm/rpmdb.sqlite", (OS_PACKAGES / "rpm-sqlite" / "rpmdb.sqlite").read_bytes()
        )
    )
    (package,) = merge([base]).packages
    assert package.ecosystem == "Red Hat:enterprise_linux:9"
    assert (
        package.purl
        == "pkg:rpm/rhel/demo-openssl-libs@3.0.7-16.el9_2?arch=noarch&distro=rhel-9.2&epoch=1"
    )


def test_os_packages_without_a_known_release_keep_their_family() -> None:
    base = layer(LayerBuilder().file("var/lib/dpkg/status", "Package: a\nVersion: 1.0\n"))
    inventory = merge([base])
    assert inventory.os is None
    assert [(p.ecosystem, p.purl) for p in inventory.packages] == [
        ("Debian", "pkg:deb/debian/a@1.0")
    ]


def test_whiteouts_remove_files_and_directories_of_lower_layers_only() -> None:
    lower = layer(
        LayerBuilder()
        .file(dist_info("Jinja2", "2.10"), metadata("Jinja2", "2.10"))
        .file(dist_info("requests", "2.19.1"), metadata("requests", "2.19.1"))
        .file("app/node_modules/lodash/package.json", package_json("lodash", "4.17.20"))
    )
    upper = layer(
        LayerBuilder()
        .whiteout("usr/lib/python3/site-packages/Jinja2-2.10.dist-info")  # a directory
        .whiteout(dist_info("requests", "2.19.1"))  # the file itself
        .whiteout("app/node_modules/lodash/package.json")
        .file(
            "app/node_modules/lodash/package.json", package_json("lodash", "4.17.21")
        )  # same layer: kept
    )
    assert language(merge([lower, upper])) == {("npm", "lodash", "4.17.21")}
    assert language(merge([upper, lower])) == {
        ("npm", "lodash", "4.17.20"),
        ("PyPI", "jinja2", "2.10"),
        ("PyPI", "requests", "2.19.1"),
    }


def test_opaque_directory_hides_lower_content_but_not_its_own() -> None:
    lower = layer(
        LayerBuilder()
        .file("app/node_modules/lodash/package.json", package_json("lodash", "4.17.20"))
        .file("app/node_modules/minimist/package.json", package_json("minimist", "1.2.5"))
        .file("srv/node_modules/ms/package.json", package_json("ms", "2.0.0"))
    )
    upper = layer(
        LayerBuilder()
        .opaque("app/node_modules")
        .file("app/node_modules/minimist/package.json", package_json("minimist", "1.2.6"))
    )
    assert language(merge([lower, upper])) == {("npm", "minimist", "1.2.6"), ("npm", "ms", "2.0.0")}


def test_upper_status_file_replaces_the_lower_one() -> None:
    lower = layer(
        LayerBuilder()
        .file("etc/os-release", DEBIAN_RELEASE)
        .file("var/lib/dpkg/status", "Package: a\nVersion: 1\n")
    )
    upper = layer(
        LayerBuilder().file(
            "var/lib/dpkg/status", "Package: a\nVersion: 2\n\nPackage: b\nVersion: 1\n"
        )
    )
    assert [(p.name, p.version) for p in merge([lower, upper]).packages] == [("a", "2"), ("b", "1")]


def test_symlink_in_an_upper_layer_hides_a_lower_database() -> None:
    lower = layer(LayerBuilder().file("var/lib/dpkg/status", "Package: a\nVersion: 1\n"))
    upper = layer(LayerBuilder().symlink("var/lib/dpkg/status", "/dev/null"))
    assert merge([lower, upper]).packages == ()


def test_language_packages_owned_by_os_packages_are_dropped() -> None:
    debian = DATA / "debian"
    base = layer(
        LayerBuilder()
        .file("etc/os-release", DEBIAN_RELEASE)
        .file("var/lib/dpkg/status", (OS_PACKAGES / "debian12-dpkg-status").read_bytes())
        .file("var/lib/dpkg/info/python3-yaml.list", (debian / "python3-yaml.list").read_bytes())
        .file("var/lib/dpkg/info/python3-jwt.list", (debian / "python3-jwt.list").read_bytes())
        .file(
            "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
            (debian / "PyYAML-6.0.METADATA").read_bytes(),
        )
        .file(
            "usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO",
            (debian / "PyJWT-2.6.0.PKG-INFO").read_bytes(),
        )
    )
    app = layer(
        LayerBuilder().file(
            dist_info("PyYAML", "5.3", site="opt/venv/lib/python3.11/site-packages"),
            metadata("PyYAML", "5.3"),
        )
    )
    inventory = merge([base, app])
    assert language(inventory) == {("PyPI", "pyyaml", "5.3")}  # the venv copy is pip's, not dpkg's
    assert {p.name for p in inventory.packages if p.name.startswith("python3-yaml")} == {
        "python3-yaml"
    }


def test_os_owned_binary_on_a_merged_usr_system_is_dropped() -> None:
    modinfo = "mod\texample.com/app\tv1.0.0\t\n"
    base = layer(
        LayerBuilder()
        .file("var/lib/dpkg/status", "Package: app\nVersion: 1.0-1\n")
        .file("var/lib/dpkg/info/app.list", "/bin/app\n")
        .file("usr/bin/app", go_binary("go1.20", modinfo), mode=0o755)
        .file("usr/local/bin/app", go_binary("go1.20", modinfo), mode=0o755)
    )
    assert {p.path for p in merge([base]).packages if p.kind == "language"} == {"usr/local/bin/app"}


def test_duplicates_fold_to_the_first_path() -> None:
    base = layer(
        LayerBuilder()
        .file("b/node_modules/ms/package.json", package_json("ms", "2.0.0"))
        .file("a/node_modules/ms/package.json", package_json("ms", "2.0.0"))
    )
    (package,) = merge([base]).packages
    assert package.path == "a/node_modules/ms/package.json"
    assert package.purl == "pkg:npm/ms@2.0.0"


def test_inventory_json_round_trip() -> None:
    base = layer(
        LayerBuilder()
        .file("etc/os-release", ALPINE_RELEASE)
        .file("lib/apk/db/installed", APK_DB)
        .file("app/node_modules/@babel/core/package.json", package_json("@babel/core", "7.0.0"))
    )
    inventory = merge([base])
    assert Inventory.from_json(inventory.to_json()) == inventory
    babel = next(p for p in inventory.packages if p.type == "npm")
    assert babel.purl == "pkg:npm/%40babel/core@7.0.0"
