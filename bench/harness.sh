# Sourced by bench/run.sh and bench/chaos/run.sh: runs a Python harness in the background and,
# whatever ends the script, stops it and every process group it recorded in $STATE.
# Usage: STATE=$(mktemp ...); run_harness GRACE_SECONDS CLEANUP_PATHS -- command args...
# Also: require_prereqs JAR TOOL... (exits 2 when something is missing).

HARNESS_PID=""

# Exits 2 unless the jar ($1), the tools named after it and Debian's Celery (/usr/bin/python3) are there.
require_prereqs() {
  local jar="$1"
  shift
  if [[ ! -f "$jar" ]]; then
    echo "no Celerity jar at $jar: build it (mvn -B package -DskipTests) or set BENCH_JAR" >&2
    exit 2
  fi
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
  done
  /usr/bin/python3 -c 'import celery, amqp, redis' || { echo "/usr/bin/python3 lacks celery/amqp/redis" >&2; exit 2; }
}

stop_harness() {
  local grace_steps=$(( $1 * 2 ))
  if [[ -n "$HARNESS_PID" ]] && kill -0 "$HARNESS_PID" 2>/dev/null; then
    kill -TERM "$HARNESS_PID" 2>/dev/null || true   # the harness stops its workers and deletes its queues
    for _ in $(seq 1 "$grace_steps"); do kill -0 "$HARNESS_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$HARNESS_PID" 2>/dev/null || true
  fi
  # last resort: process groups the harness recorded (workers, a private redis-server) still alive
  if [[ -s "$STATE" ]]; then
    while read -r pgid; do
      [[ -n "$pgid" ]] && kill -KILL -- "-$pgid" 2>/dev/null || true
    done < "$STATE"
  fi
}

run_harness() {
  HARNESS_GRACE="$1"
  HARNESS_LEFTOVERS="$2"
  shift 3   # GRACE PATHS --
  trap '_rc=$?; trap - EXIT INT TERM; stop_harness "$HARNESS_GRACE"; rm -rf "$STATE" $HARNESS_LEFTOVERS; exit "$_rc"' EXIT
  trap 'exit 130' INT TERM
  "$@" &
  HARNESS_PID=$!
  wait "$HARNESS_PID"
}
