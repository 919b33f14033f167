#!/usr/bin/env bash
# Install the Debian packages the tests or benchmarks need, when they are missing.
# Usage: scripts/install-tools.sh PACKAGE...   (package name = the command it provides, except
# docker-registry, whose command is /usr/bin/docker-registry too)
set -euo pipefail
missing=()
for pkg in "$@"; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/stiva-apt.log 2>&1; then
  $SUDO apt-get update >/tmp/stiva-apt-update.log 2>&1
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/stiva-apt.log 2>&1 || {
    cat /tmp/stiva-apt.log >&2
    exit 1
  }
fi
# docker-registry's package starts a system service on :5000; the benchmark runs its own copy.
if [[ " ${missing[*]} " == *" docker-registry "* ]]; then
  $SUDO systemctl stop docker-registry >/dev/null 2>&1 || $SUDO service docker-registry stop >/dev/null 2>&1 || true
  pkill -f '/usr/bin/docker-registry serve /etc/docker/registry/config.yml' >/dev/null 2>&1 || true
fi
