#!/usr/bin/env bash
# Installs (if missing) and starts the services the Celerity integration tests need:
#   RabbitMQ on 127.0.0.1:5672 (guest/guest, vhost "celerity-test"), Redis on 127.0.0.1:6379,
#   Debian's python3-celery / python3-redis (the real Celery client, run with /usr/bin/python3) and python3-uvloop
#   (the loop child_async_loop=auto picks for async def tasks, tested both ways),
#   docker-compose (only used to validate docker-compose.yml), Debian's chromium (the dashboard test, headless).
# Idempotent and non-interactive: safe to run repeatedly, with CI=true and no stdin, as root on
# Debian 12. Fast path (everything installed and running) takes a few seconds.
set -euo pipefail

log() { echo "[setup-services] $*"; }
die() { echo "[setup-services] ERROR: $*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
RABBIT_WAIT_SECONDS="${RABBIT_WAIT_SECONDS:-90}"
VHOST="${CELERITY_TEST_VHOST:-celerity-test}"

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else die "must run as root (or with passwordless sudo)"; fi
fi

# ---------------------------------------------------------------- packages
PACKAGES=(rabbitmq-server redis-server python3-celery python3-redis python3-uvloop docker-compose chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing missing packages: ${missing[*]}"
  $SUDO apt-get update -q </dev/null || die "apt-get update failed"
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null \
    || die "apt-get install ${missing[*]} failed"
else
  log "packages present: ${PACKAGES[*]}"
fi

port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1
}

# ---------------------------------------------------------------- redis
if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  log "redis already running on 127.0.0.1:6379"
else
  log "starting redis-server"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log </dev/null \
    || die "redis-server failed to start (see /var/log/redis/ci.log)"
  ok=""
  for _ in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || die "redis did not answer PING within 10 s (see /var/log/redis/ci.log)"
  log "redis started"
fi

# ---------------------------------------------------------------- rabbitmq
if port_open 127.0.0.1 5672; then
  log "rabbitmq already listening on 127.0.0.1:5672"
else
  log "starting rabbitmq-server (detached)"
  $SUDO mkdir -p /var/log/rabbitmq /var/lib/rabbitmq
  $SUDO chown rabbitmq:rabbitmq /var/log/rabbitmq /var/lib/rabbitmq 2>/dev/null || true
  $SUDO rabbitmq-server -detached </dev/null || die "rabbitmq-server -detached failed"
fi

# Wait (bounded) until the broker answers on 5672 and the rabbit app is fully booted.
deadline=$(( $(date +%s) + RABBIT_WAIT_SECONDS ))
until port_open 127.0.0.1 5672; do
  [ "$(date +%s)" -lt "$deadline" ] || die "rabbitmq did not open port 5672 within ${RABBIT_WAIT_SECONDS}s (see /var/log/rabbitmq/)"
  sleep 0.5
done
remaining=$(( deadline - $(date +%s) )); [ "$remaining" -gt 5 ] || remaining=5
$SUDO timeout "$((remaining + 5))" rabbitmqctl -q await_startup --timeout "$remaining" </dev/null >/dev/null \
  || die "rabbitmqctl await_startup failed (see /var/log/rabbitmq/)"
log "rabbitmq ready"

# ---------------------------------------------------------------- vhost + permissions
if $SUDO rabbitmqctl -q list_vhosts name </dev/null | grep -qx "$VHOST"; then
  log "vhost $VHOST exists"
else
  $SUDO rabbitmqctl -q add_vhost "$VHOST" </dev/null >/dev/null || die "could not create vhost $VHOST"
  log "vhost $VHOST created"
fi
$SUDO rabbitmqctl -q set_permissions -p "$VHOST" guest ".*" ".*" ".*" </dev/null >/dev/null \
  || die "could not grant guest permissions on vhost $VHOST"
log "guest has full permissions on vhost $VHOST"

# ---------------------------------------------------------------- python client
/usr/bin/python3 -c 'import celery, redis' </dev/null \
  || die "/usr/bin/python3 cannot import celery and redis (python3-celery / python3-redis broken?)"
log "python client ok: $(/usr/bin/python3 -c 'import celery, kombu, redis; print("celery", celery.__version__, "kombu", kombu.__version__, "redis-py", redis.__version__)')"
log "done"
