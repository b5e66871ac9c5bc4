# Sourced by scripts/rabbitmq-cluster.sh and scripts/redis-sentinel.sh: the servers they start
# keep a pid file in DIR/<server>/pid; stop_all kills each and removes DIR.
# Needs TAG (log prefix) and DIR set by the caller.

log() { echo "[$TAG] $*" >&2; }
die() { echo "[$TAG] ERROR: $*" >&2; exit 1; }

stop_all() {
  [ -d "$DIR" ] || { log "nothing to stop"; return 0; }
  for f in "$DIR"/*/pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$DIR"
  log "stopped"
}
