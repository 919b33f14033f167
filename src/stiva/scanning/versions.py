"""Version comparison per OSV ecosystem.

`compare(ecosystem, a, b)` picks the scheme from the ecosystem's base name (the part before the
first ':', so "Debian:12" and "Alpine:v3.18" work) and returns -1, 0 or 1. Unknown ecosystems raise
UnsupportedEcosystem; strings a scheme cannot read raise InvalidVersion (both are VersionError).

Every comparator here is a scheme's `compare` behind `_checked`: any other ValueError a scheme or
the library under it lets out (`int()` of a component longer than Python's 4300-digit limit,
`1.1.999…`) becomes InvalidVersion too, so callers catch VersionError and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from stiva.scanning.errors import InvalidVersion, UnsupportedEcosystem, VersionError
from stiva.scanning.schemes import alpine, debian, maven, pypi, rpm, rubygems, semver

Comparator = Callable[[str, str], int]


def _raises(compare: Comparator, text: str) -> bool:
    try:
        compare(text, text)
    except ValueError:
        return True
    return False


def _checked(scheme: str, compare: Comparator) -> Comparator:
    """`compare`, with a stray ValueError turned into InvalidVersion naming the culprit."""

    @wraps(compare)
    def checked(a: str, b: str) -> int:
        try:
            return compare(a, b)
        except VersionError:
            raise
        except ValueError:
            culprit = a if _raises(compare, a) else b
            raise InvalidVersion(scheme, culprit) from None

    return checked


_APK = _checked("APK", alpine.compare)
_DEBIAN = _checked("Debian", debian.compare)
_MAVEN = _checked("Maven", maven.compare)
_PYPI = _checked("PyPI", pypi.compare)
_RPM = _checked("RPM", rpm.compare)
_RUBYGEMS = _checked("RubyGems", rubygems.compare)
_SEMVER = _checked("SemVer", semver.compare)

SCHEMES: dict[str, Comparator] = {
    "Debian": _DEBIAN,
    "Ubuntu": _DEBIAN,
    "Alpine": _APK,
    "Alpaquita": _APK,
    "Chainguard": _APK,
    "MinimOS": _APK,
    "Wolfi": _APK,
    "AlmaLinux": _RPM,
    "Azure Linux": _RPM,
    "Mageia": _RPM,
    "openEuler": _RPM,
    "openSUSE": _RPM,
    "Photon OS": _RPM,
    "Red Hat": _RPM,
    "Rocky Linux": _RPM,
    "SUSE": _RPM,
    "PyPI": _PYPI,
    "npm": _SEMVER,
    "crates.io": _SEMVER,
    "Go": _SEMVER,
    "Maven": _MAVEN,
    "RubyGems": _RUBYGEMS,
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
    return _SEMVER(a, b)
