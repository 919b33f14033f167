"""Version comparison per OSV ecosystem.

`compare(ecosystem, a, b)` picks the scheme from the ecosystem's base name (the part before the
first ':', so "Debian:12" and "Alpine:v3.18" work) and returns -1, 0 or 1. Unknown ecosystems raise
UnsupportedEcosystem; strings a scheme cannot read raise InvalidVersion (both are VersionError).
"""

from __future__ import annotations

from collections.abc import Callable

from stiva.scanning.errors import UnsupportedEcosystem
from stiva.scanning.schemes import alpine, debian, maven, pypi, rpm, rubygems, semver

Comparator = Callable[[str, str], int]

SCHEMES: dict[str, Comparator] = {
    "Debian": debian.compare,
    "Ubuntu": debian.compare,
    "Alpine": alpine.compare,
    "Alpaquita": alpine.compare,
    "Chainguard": alpine.compare,
    "MinimOS": alpine.compare,
    "Wolfi": alpine.compare,
    "AlmaLinux": rpm.compare,
    "Azure Linux": rpm.compare,
    "Mageia": rpm.compare,
    "openEuler": rpm.compare,
    "openSUSE": rpm.compare,
    "Photon OS": rpm.compare,
    "Red Hat": rpm.compare,
    "Rocky Linux": rpm.compare,
    "SUSE": rpm.compare,
    "PyPI": pypi.compare,
    "npm": semver.compare,
    "crates.io": semver.compare,
    "Go": semver.compare,
    "Maven": maven.compare,
    "RubyGems": rubygems.compare,
}
"""OSV ecosystem base name -> comparator; every name is spelled as `ecosystems.json` spells it."""


def base_ecosystem(ecosystem: str) -> str:
    """The ecosystem name without its release suffix: "Debian:12" -> "Debian"."""
    return ecosystem.split(":", 1)[0]


def comparator(ecosystem: str) -> Comparator:
    """The comparator for an ecosystem; UnsupportedEcosystem when there is none."""
    try:
        return SCHEMES[base_ecosystem(ecosystem)]
    except KeyError:
        raise UnsupportedEcosystem(ecosystem) from None


def supported(ecosystem: str) -> bool:
    """Whether `compare` knows the ecosystem."""
    return base_ecosystem(ecosystem) in SCHEMES


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as `a` sorts before, equal to or after `b` in the ecosystem's ordering."""
    return comparator(ecosystem)(a, b)


def compare_semver(a: str, b: str) -> int:
    """SemVer 2.0 precedence, for OSV ranges of type SEMVER whatever the ecosystem."""
    return semver.compare(a, b)
