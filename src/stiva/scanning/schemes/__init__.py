"""Version comparators, one module per versioning scheme; each exposes `compare(a, b) -> -1|0|1`.

Debian and SemVer wrap `univers`; PyPI wraps `packaging` (plus the pre-PEP 440 legacy ordering).
APK, RPM, Maven and RubyGems are written here because no library orders every case of the
reference vectors (`shared/testdata/version-vectors`) the way the package managers do.
"""
