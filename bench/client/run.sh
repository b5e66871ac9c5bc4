#!/usr/bin/env bash
# Java client vs Python Celery's client: publish rate with confirms, round-trip latency (same run, same broker).
# Usage: bench/client/run.sh [--n N] [--lat-n N] [--jar PATH]
# Environment: BENCH_CLIENT_N (default 5000), BENCH_CLIENT_LAT_N (default 300), BENCH_JAR.
# Prints a Markdown report and saves it to bench/results/client_<date>.md. Redis db 12 holds the results.
set -euo pipefail

CLIENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_DIR="$(dirname "$CLIENT_DIR")"
ROOT="$(dirname "$BENCH_DIR")"
PY=/usr/bin/python3   # Debian's Celery 5.2.6 lives here, not in the python3 first on PATH
# shellcheck source=bench/harness.sh
source "$BENCH_DIR/harness.sh"
JAR="${BENCH_JAR:-$ROOT/target/celerity.jar}"
require_prereqs "$JAR" java

mkdir -p "$BENCH_DIR/results"
OUT="$BENCH_DIR/results/client_$(date +%Y-%m-%d_%H%M%S).md"
STATE="$(mktemp -t celerity-client-bench-pids.XXXXXX)"

run_harness 10 '' -- "$PY" "$CLIENT_DIR/client_bench.py" --jar "$JAR" --out "$OUT" --state-file "$STATE" "$@"
