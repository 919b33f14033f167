"""Exceptions of the scanning package.

    ScanningError
    ├── LayerRejected            a layer is hostile, corrupt or beyond the limits; `reason` says why
    ├── AnalysisVersionMismatch  cached analysis of another ANALYZER_VERSION (ValueError)
    ├── InvalidAdvisory          an OSV record lacks what the schema requires (ValueError)
    └── VersionError             (ValueError)
        ├── UnsupportedEcosystem no comparator for this ecosystem
        └── InvalidVersion       the string is not a version of this ecosystem

The service maps LayerRejected to a FAILED scan with its reason; the rest are bugs or bad data.
"""

from __future__ import annotations


class ScanningError(Exception):
    """Base of every error raised by `stiva.scanning`."""


class LayerRejected(ScanningError):
    """The layer cannot be analysed safely; the scan fails with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnalysisVersionMismatch(ScanningError, ValueError):
    """A serialised LayerAnalysis was produced by a different analyzer version."""


class InvalidAdvisory(ScanningError, ValueError):
    """An OSV record is missing a required field or has the wrong shape."""


class VersionError(ScanningError, ValueError):
    """Versions could not be compared."""


class UnsupportedEcosystem(VersionError):
    """No version comparator is known for the ecosystem."""

    def __init__(self, ecosystem: str) -> None:
        super().__init__(f"no version comparator for ecosystem {ecosystem!r}")
        self.ecosystem = ecosystem


class InvalidVersion(VersionError):
    """A version string cannot be parsed by the ecosystem's rules."""

    def __init__(self, scheme: str, version: str) -> None:
        super().__init__(f"{version!r} is not a valid {scheme} version")
        self.scheme = scheme
        self.version = version
