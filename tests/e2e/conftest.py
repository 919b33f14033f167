"""End-to-end fixtures: one live server per test module, real clients on PATH."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, live_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live") / "data") as handle:
        yield handle


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; `make test` installs it (scripts/install-tools.sh)")
    return path


class Skopeo:
    def __init__(self, authfile: Path) -> None:
        self.binary = _tool("skopeo")
        self.authfile = authfile

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"skopeo {' '.join(args)} failed:\n{result.stderr}")
        return result

    def login(self, host: str, password: str) -> None:
        self.run(
            "login",
            "--tls-verify=false",
            "--authfile",
            str(self.authfile),
            "-u",
            "AWS",
            "--password-stdin",
            host,
            stdin=password,
        )

    def copy(
        self, source: str, destination: str, *, all_images: bool = False, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        args = [
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--authfile",
            str(self.authfile),
        ]
        if all_images:
            args.append("--all")
        return self.run(*args, source, destination, check=check)


@pytest.fixture
def skopeo(tmp_path: Path) -> Skopeo:
    return Skopeo(tmp_path / "auth.json")
