#!/usr/bin/env bash
# Many workers on one broker: bench/scale.py (see its docstring and docs/scaling.md).
#   bench/scale.sh                      # 1,2,4,8 workers x Celerity, Celery, mixed; 4000 tasks per drain
#   bench/scale.sh --n 2000 --sizes 1,2,4 --kinds ours,py
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "${BENCH_JAR:-target/celerity.jar}" ] || { echo "build target/celerity.jar first (mvn -o -q package -DskipTests)" >&2; exit 1; }
# shellcheck source=bench/harness.sh
source bench/harness.sh
STATE=$(mktemp /tmp/celerity-scale-state.XXXXXX)
run_harness 20 "" -- /usr/bin/python3 bench/scale.py --state-file "$STATE" "$@"
