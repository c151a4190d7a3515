#!/usr/bin/env bash
# Zero-downtime deploy of the edge on a host run with the systemd units (deploy/systemd/):
# install the new code, migrate forward, start the new edge beside the old one on the other
# port, wait for /readyz, drain the old edge (Caddy's health check moves traffic), stop it.
#   deploy/deploy.sh [GIT_REF]          (default: the current checkout)
# Environment: DIGITALDOCK_HOME (/opt/digitaldock), DEPLOY_MANAGER (systemd|process),
# CADDY_ADMIN (http://127.0.0.1:2019), DEPLOY_STATE (/var/lib/digitaldock/deploy).
set -euo pipefail
HOME_DIR=${DIGITALDOCK_HOME:-/opt/digitaldock}
cd "$HOME_DIR"
if [ -n "${1:-}" ]; then
  git fetch --tags --quiet origin
  git checkout --quiet "$1"
fi
scripts/setup
set -a
# shellcheck disable=SC1091
[ -f /etc/digitaldock/env ] && . /etc/digitaldock/env
set +a
exec .venv/bin/digitaldock deploy \
  --manager "${DEPLOY_MANAGER:-systemd}" \
  --caddy-admin "${CADDY_ADMIN:-http://127.0.0.1:2019}" \
  --state-dir "${DEPLOY_STATE:-/var/lib/digitaldock/deploy}"
