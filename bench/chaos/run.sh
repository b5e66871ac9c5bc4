#!/usr/bin/env bash
# Fault-injection suite: Celerity and Celery 5.2's own worker side by side under kill -9, broker
# connection closes, a result backend outage, a hostile message corpus and a soak.
# Usage: bench/chaos/run.sh [--quick] [--only kill,close,backend,hostile,kinds,soak] [--workers ours,celery]
#                          [--brokers amqp,redis] [--kinds REGEX] [--jar PATH] ...   (chaos.py --help)
# Prints a Markdown report and saves it to bench/chaos/results/<date>_<time>.md. See docs/reliability.md.
# Never part of the CI path: it needs minutes, real brokers, and kills processes on purpose.
set -euo pipefail

CHAOS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$CHAOS_DIR/../.." && pwd)"
PY=/usr/bin/python3   # Debian's Celery 5.2.6 lives here, not in the python3 first on PATH

CMDLINE="bench/chaos/run.sh $*"
JAR="${CHAOS_JAR:-$ROOT/target/celerity.jar}"
ARGS=()
while [[ $# -gt 0 ]]; do
  if [[ "$1" == --jar ]]; then JAR="$2"; shift 2; else ARGS+=("$1"); shift; fi
done
if [[ ! -f "$JAR" ]]; then
  echo "no Celerity jar at $JAR: build it (mvn -B -ntp -q -DskipTests package) or pass --jar / CHAOS_JAR" >&2
  exit 2
fi
for tool in java javac rabbitmqctl redis-server; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done
"$PY" -c 'import celery, amqp, redis' || { echo "$PY lacks celery/amqp/redis" >&2; exit 2; }

# A vhost of our own; the workers log in as their own user so that their connections (and only
# theirs) can be closed with close_all_user_connections.
rabbitmqctl -q add_vhost celerity-chaos 2>/dev/null || true
rabbitmqctl -q add_user celerity-chaos chaos 2>/dev/null || true
rabbitmqctl -q set_permissions -p celerity-chaos celerity-chaos '.*' '.*' '.*' >/dev/null
rabbitmqctl -q set_permissions -p celerity-chaos guest '.*' '.*' '.*' >/dev/null

CLASSES="$(mktemp -d -t celerity-chaos-classes.XXXXXX)"
javac -cp "$JAR" -d "$CLASSES" "$CHAOS_DIR/ChaosTasks.java"

mkdir -p "$CHAOS_DIR/results"
OUT="$CHAOS_DIR/results/$(date +%Y-%m-%d_%H%M%S).md"
STATE="$(mktemp -t celerity-chaos-pids.XXXXXX)"
# shellcheck source=bench/harness.sh
source "$CHAOS_DIR/../harness.sh"

run_harness 15 "$CLASSES" -- "$PY" "$CHAOS_DIR/chaos.py" --jar "$JAR" --classes "$CLASSES" --out "$OUT" --state-file "$STATE" \
  --cmdline "$CMDLINE" "${ARGS[@]}"
