"""Version ordering per ecosystem, checked against osv-scalibr's vectors in shared/testdata."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stiva.scanning.errors import InvalidVersion, UnsupportedEcosystem, VersionError
from stiva.scanning.versions import SCHEMES, compare, compare_semver
from tests.support.layers import VECTORS

ECOSYSTEMS = {
    "debian": "Debian:12",
    "alpine": "Alpine:v3.18",
    "redhat": "Red Hat:enterprise_linux:9",
    "pypi": "PyPI",
    "semver": "npm",
    "maven": "Maven",
    "rubygems": "RubyGems",
}
EXPECTED = {"<": -1, "=": 0, ">": 1}


def _vectors(path: Path) -> list[tuple[str, str, str]]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "//")):
            a, op, b = line.split(" ")
            lines.append((a, op, b))
    return lines


def _files(generated: bool) -> list[tuple[str, Path]]:
    suffix = "-versions-generated.txt" if generated else "-versions.txt"
    return [
        (key, VECTORS / f"{key}{suffix}")
        for key in ECOSYSTEMS
        if (VECTORS / f"{key}{suffix}").exists()
    ]


CURATED = [
    pytest.param(ECOSYSTEMS[key], a, op, b, id=f"{key}:{a}{op}{b}")
    for key, path in _files(generated=False)
    for a, op, b in _vectors(path)
]


def test_every_required_vector_file_is_present() -> None:
    for key in ("debian", "alpine", "redhat", "pypi", "semver", "maven"):
        assert (VECTORS / f"{key}-versions.txt").exists()
    assert len(CURATED) > 1000


@pytest.mark.parametrize(("ecosystem", "a", "op", "b"), CURATED)
def test_curated_vector(ecosystem: str, a: str, op: str, b: str) -> None:
    assert compare(ecosystem, a, b) == EXPECTED[op]
    assert compare(ecosystem, b, a) == -EXPECTED[op]


@pytest.mark.parametrize(
    ("key", "path"), _files(generated=True), ids=lambda v: str(v).rsplit("/")[-1]
)
def test_generated_vectors(key: str, path: Path) -> None:
    """Thousands of lines per file: checked in one test each, every failing line reported."""
    ecosystem = ECOSYSTEMS[key]
    failures = [
        f"{a} {op} {b} gave {result}"
        for a, op, b in _vectors(path)
        if (result := compare(ecosystem, a, b)) != EXPECTED[op]
    ]
    assert failures == []


@pytest.mark.parametrize(
    ("ecosystem", "a", "b", "expected"),
    [
        ("Debian:12", "2:1.02.185-2", "2.03.16-2", 1),  # an epoch outweighs everything
        ("Debian:12", "5.2.15-2+b8", "5.2.15-2", 1),  # binNMU sorts after its source version
        ("Debian:12", "1:1.2.13.dfsg-1", "1.2.13.dfsg-3", 1),
        ("Ubuntu:22.04:LTS", "1.0~rc1", "1.0", -1),
        ("Alpine:v3.4", "1.0.2h-r1", "1.0.2i-r0", -1),
        ("Wolfi", "1.2_rc1-r0", "1.2-r0", -1),
        ("Rocky Linux:9", "1:3.0.7-16.el9_2", "3.0.7-17.el9_2", 1),
        ("PyPI", "2.10", "2.10.1", -1),
        ("PyPI", "5.2b1", "5.2", -1),
        ("Go", "v1.5.0", "1.6.0", -1),
        ("Go", "v0.0.0-20210101000000-abcdefabcdef", "0.0.1", -1),
        ("crates.io", "0.0.0-0", "0.9.0", -1),
        ("Maven", "2.14.1", "2.15.0-rc1", -1),
        ("RubyGems", "1.2.4.beta", "1.2.4", -1),
    ],
)
def test_ecosystem_specific_orderings(ecosystem: str, a: str, b: str, expected: int) -> None:
    assert compare(ecosystem, a, b) == expected


def test_unknown_ecosystem_is_a_typed_error() -> None:
    with pytest.raises(UnsupportedEcosystem) as raised:
        compare("NoSuchEcosystem", "1", "2")
    assert isinstance(raised.value, VersionError)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("ecosystem", "bad"), [("Debian:12", "not-a-version"), ("npm", "x.y.z"), ("npm", "")]
)
def test_invalid_version_is_a_typed_error(ecosystem: str, bad: str) -> None:
    with pytest.raises(InvalidVersion):
        compare(ecosystem, bad, "1.0.0")


HUGE = "1.1." + "9" * 5000  # past Python's 4300-digit limit for int()


def _outcome(ecosystem: str, a: str, b: str) -> int | str:
    """The comparison, or the version InvalidVersion names."""
    try:
        return compare(ecosystem, a, b)
    except InvalidVersion as raised:
        return raised.version


@pytest.mark.parametrize("ecosystem", sorted(SCHEMES))
def test_a_component_past_pythons_digit_limit_is_an_invalid_version(ecosystem: str) -> None:
    """Each comparison either orders the strings or raises InvalidVersion naming the huge one;
    int()'s own ValueError never escapes (it failed a scan job over and over)."""
    for a, b in [(HUGE, HUGE), ("1.1.14-r10", HUGE), (HUGE, "1.1.14-r10")]:
        ordered = 0 if a == b else -1 if b == HUGE else 1
        assert _outcome(ecosystem, a, b) in (ordered, HUGE)


def test_semver_ranges_use_semver_whatever_the_ecosystem() -> None:
    assert compare_semver("1.0.0-beta.11", "1.0.0-rc.1") == -1
    assert compare_semver("1.2.3+build", "1.2.3") == 0


# Properties on generated versions: antisymmetry, reflexivity and transitivity.
_number = st.integers(min_value=0, max_value=30).map(str)
_dotted = st.lists(_number, min_size=1, max_size=4).map(".".join)
_debian = st.builds(
    lambda epoch, upstream, tilde, revision: f"{epoch}{upstream}{tilde}{revision}",
    st.sampled_from(["", "1:", "2:"]),
    _dotted,
    st.sampled_from(["", "~rc1", "~beta", "+dfsg"]),
    st.sampled_from(["", "-1", "-2+b1", "-1~deb12u1"]),
)
_alpine = st.builds(
    lambda ver, letter, suffix, rev: f"{ver}{letter}{suffix}-r{rev}",
    _dotted,
    st.sampled_from(["", "a", "b"]),
    st.sampled_from(["", "_rc1", "_alpha", "_p2", "_git20200101"]),
    _number,
)
_rpm = st.builds(
    lambda epoch, ver, rel: f"{epoch}{ver}-{rel}",
    st.sampled_from(["", "1:"]),
    _dotted,
    st.builds(
        lambda n, d: f"{n}{d}", _number, st.sampled_from(["", ".el9", ".el9_2", "~rc1", "^git1"])
    ),
)
_pypi = st.builds(
    lambda ver, pre, post: f"{ver}{pre}{post}",
    _dotted,
    st.sampled_from(["", "a1", "b2", "rc1", ".dev3"]),
    st.sampled_from(["", ".post1", "+local.1"]),
)
_semver = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}{pre}",
    _number,
    _number,
    _number,
    st.sampled_from(["", "-alpha", "-alpha.1", "-rc.2", "-1"]),
)
_maven = st.builds(
    lambda ver, q: f"{ver}{q}",
    _dotted,
    st.sampled_from(["", "-SNAPSHOT", "-alpha-1", ".RELEASE", "-rc1", "-sp1"]),
)
GENERATORS = {
    "Debian:12": _debian,
    "Alpine:v3.18": _alpine,
    "Red Hat:enterprise_linux:9": _rpm,
    "PyPI": _pypi,
    "npm": _semver,
    "Maven": _maven,
}


@pytest.mark.parametrize("ecosystem", GENERATORS)
def test_ordering_is_antisymmetric_reflexive_and_transitive(ecosystem: str) -> None:
    strategy = GENERATORS[ecosystem]

    @given(strategy, strategy, strategy)
    def check(a: str, b: str, c: str) -> None:
        assert compare(ecosystem, a, a) == 0
        assert compare(ecosystem, a, b) == -compare(ecosystem, b, a)
        ab, bc = compare(ecosystem, a, b), compare(ecosystem, b, c)
        if ab <= 0 and bc <= 0:
            assert compare(ecosystem, a, c) <= 0
        if ab == 0 and bc == 0:
            assert compare(ecosystem, a, c) == 0

    check()
