#!/usr/bin/env bash
# Validates docker-compose.yml (syntax, schema, variable interpolation) without a Docker engine.
# Uses docker-compose (Debian package docker-compose, installed by scripts/setup-services.sh) or,
# if absent, the `docker compose` plugin.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "[validate-compose] ERROR: neither docker-compose nor 'docker compose' is installed" \
       "(apt-get install docker-compose, or run scripts/setup-services.sh)" >&2
  exit 1
fi

[ -f Dockerfile ] || { echo "[validate-compose] ERROR: Dockerfile missing" >&2; exit 1; }
# The worker's token has no default: without it, compose must refuse to start.
if env -u CELERITY_HTTP_TOKEN "${compose[@]}" -f docker-compose.yml config -q </dev/null 2>/dev/null; then
  echo "[validate-compose] ERROR: docker-compose.yml accepts a missing CELERITY_HTTP_TOKEN" >&2
  exit 1
fi
CELERITY_HTTP_TOKEN="${CELERITY_HTTP_TOKEN:-validate-compose-only-token}" \
  "${compose[@]}" -f docker-compose.yml config -q </dev/null
echo "[validate-compose] docker-compose.yml is valid (${compose[*]}); a missing CELERITY_HTTP_TOKEN is refused"
