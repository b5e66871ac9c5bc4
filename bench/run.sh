#!/usr/bin/env bash
# Celerity vs Python Celery benchmark: drain rate, round-trip latency, raw broker ceiling.
# Usage: bench/run.sh [--n N] [--lat-n N] [--raw-n N] [--only drain,latency,raw] [--jar PATH] ...
# Environment: BENCH_N, BENCH_LAT_N, BENCH_RAW_N, BENCH_JAR, BENCH_JAVA_OPTS, BENCH_STALL, BENCH_TIMEOUT, BENCH_ONLY
# Prints a Markdown report and saves it to bench/results/<date>.md. See bench/README.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH_DIR")"
PY=/usr/bin/python3   # Debian's Celery 5.2.6 lives here, not in the python3 first on PATH

# shellcheck source=bench/harness.sh
source "$BENCH_DIR/harness.sh"
JAR="${BENCH_JAR:-$ROOT/target/celerity.jar}"
require_prereqs "$JAR" java rabbitmqctl

mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/$(date +%Y-%m-%d_%H%M%S).md"
STATE="$(mktemp -t celerity-bench-pids.XXXXXX)"

run_harness 10 '' -- "$PY" "$BENCH_DIR/bench.py" --jar "$JAR" --out "$OUT" --state-file "$STATE" \
  --cmdline "bench/run.sh $*" "$@"
