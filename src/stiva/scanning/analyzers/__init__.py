"""File analyzers, chosen by path (and, for executables, by content).

`select(path)` returns the analyzer for a regular file at `path`, or None. Each analyzer takes
`(path, data, limits)` and returns a FileRecord or None; `records.Unreadable` means the file is at
an analyzed path but cannot be read. `is_language_evidence(path)` tells which files OS packages'
file lists are kept for (so language packages they own can be dropped at merge).
"""

from __future__ import annotations

from collections.abc import Callable

from stiva.scanning.analyzers import apk, dpkg, java, npm, os_release, python, rpm, ruby, rust
from stiva.scanning.limits import Limits
from stiva.scanning.records import FileRecord

FileAnalyzer = Callable[[str, bytes, Limits], FileRecord | None]

_EXACT: dict[str, FileAnalyzer] = {
    **dict.fromkeys(os_release.OS_RELEASE_PATHS, os_release.analyze_os_release),
    **dict.fromkeys(os_release.HINT_PATHS, os_release.analyze_hint),
    dpkg.STATUS: dpkg.analyze_status,
    **dict.fromkeys(apk.PATHS, apk.analyze_installed),
    **{d + rpm.SQLITE: rpm.analyze_sqlite for d in rpm.DIRECTORIES},
    **{d + rpm.BDB: rpm.analyze_bdb for d in rpm.DIRECTORIES},
    **{d + rpm.NDB: rpm.analyze_ndb for d in rpm.DIRECTORIES},
}


def _language(path: str) -> FileAnalyzer | None:
    if python.is_metadata(path):
        return python.analyze_metadata
    if npm.is_package_json(path):
        return npm.analyze_package_json
    if ruby.is_gemspec(path):
        return ruby.analyze_gemspec
    if path == "Cargo.lock" or path.endswith("/Cargo.lock"):
        return rust.analyze_cargo_lock
    if java.is_archive(path):
        return java.analyze_archive
    return None


def select(path: str) -> FileAnalyzer | None:
    """The analyzer for a regular file at `path`, or None."""
    if path in _EXACT:
        return _EXACT[path]
    if dpkg.is_file_list(path):
        return dpkg.analyze_file_list
    if dpkg.is_status_d(path):
        return dpkg.analyze_status
    return _language(path)


def is_language_evidence(path: str) -> bool:
    """Whether a language analyzer reads this path."""
    return _language(path) is not None
