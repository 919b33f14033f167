"""Package URLs (purl-spec) for inventory packages, built with `packageurl-python`."""

from __future__ import annotations

from packageurl import PackageURL

from stiva.scanning.packages import OsInfo, Package

_OS_NAMESPACE = {"deb": "debian", "apk": "alpine", "rpm": "redhat"}


def _os_purl(package: Package, os: OsInfo | None) -> PackageURL:
    namespace = os.id if os else _OS_NAMESPACE[package.type]
    qualifiers: dict[str, str] = {}
    if package.arch:
        qualifiers["arch"] = package.arch
    if os and os.version_id:
        qualifiers["distro"] = (
            os.version_id if package.type == "apk" else f"{os.id}-{os.version_id}"
        )
    version = package.version
    if package.type == "rpm" and ":" in version:
        epoch, version = version.split(":", 1)
        qualifiers["epoch"] = epoch
    return PackageURL(package.type, namespace, package.name, version, qualifiers or None)


def _language_purl(package: Package) -> PackageURL:
    namespace: str | None = None
    name = package.name
    if package.type == "maven" and ":" in name:
        namespace, name = name.split(":", 1)
    elif package.type in ("npm", "golang") and "/" in name:
        namespace, name = name.rsplit("/", 1)
    return PackageURL(package.type, namespace, name, package.version)


def purl(package: Package, os: OsInfo | None) -> str:
    """The package's purl; OS packages carry arch and distro qualifiers."""
    if package.type in _OS_NAMESPACE:
        return str(_os_purl(package, os).to_string())
    return str(_language_purl(package).to_string())
