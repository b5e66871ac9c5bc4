#!/usr/bin/env bash
# Async tasks benchmark: 10,000 tasks that each wait 100 ms on I/O (sleep, local HTTP server), Celerity's
# Java async and Python async def tasks vs Celery prefork -c 2, threads -c 100 (and gevent if installed).
# Usage: bench/async.sh [--n N] [--prefork-n N] [--threads-n N] [--only sleep,http] [--java-inflight N] [--child-inflight N]
# Prints a Markdown report and saves it to bench/results/<date>_async.md. See bench/README.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
PY=/usr/bin/python3
JAR="${BENCH_JAR:-$ROOT/target/celerity.jar}"
if [[ ! -f "$JAR" ]]; then
  echo "no Celerity jar at $JAR: build it (mvn -B package -DskipTests) or set BENCH_JAR" >&2
  exit 2
fi
"$PY" -c 'import celery, redis' || { echo "$PY lacks celery/redis" >&2; exit 2; }
mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/$(date +%Y-%m-%d_%H%M%S)_async.md"
STATE="$(mktemp -t celerity-bench-pids.XXXXXX)"
# shellcheck source=bench/harness.sh
source "$BENCH_DIR/harness.sh"

run_harness 10 '' -- "$PY" "$BENCH_DIR/async_bench.py" --jar "$JAR" --out "$OUT" --state-file "$STATE" \
  --cmdline "bench/async.sh $*" "$@"
