#!/usr/bin/env bash
# The worker's CPU per round trip on an idle, warm worker: one Celerity worker (bin/celerity, -P threads -c 8,
# Redis results in db 9) answers 1,000 untimed then 2,000 timed sequential `examples.add.delay().get()` calls
# from the Python client (bench/latency_warm.py); prints the percentiles of the timed half and the JVM's
# utime+stime per timed call, from /proc. Alternate jars to compare: CPU per call is what the wake-ups cost.
#   bench/latency_cpu.sh JAR LABEL
set -euo pipefail
jar=$1 label=$2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
q="latcpu-$label-$RANDOM" port=$((19000 + RANDOM % 500))
broker=amqp://guest:guest@127.0.0.1:5672/celerity-test backend=redis://127.0.0.1:6379/9
CELERITY_JAR=$jar CELERITY_HTTP_PORT=$port "$here/bin/celerity" worker -b $broker --result-backend $backend \
  -Q "$q" -c 8 -P threads -l WARNING -n "latcpu-$label@localhost" > "/tmp/latcpu-$label.log" 2>&1 &
trap 'pkill -f "latcpu-$label@localhost" || true; rabbitmqctl -q delete_queue -p celerity-test "$q" >/dev/null 2>&1 || true' EXIT
sleep 1
jpid=""
for _ in $(seq 1 50); do jpid=$(pgrep -f "latcpu-$label@localhost" | head -1) && [ -n "$jpid" ] && break; sleep 0.1; done
/usr/bin/python3 "$here/bench/latency_warm.py" "$q" 1000 $broker $backend > /dev/null
t0=$(awk '{print $14+$15}' "/proc/$jpid/stat")
r=$(/usr/bin/python3 "$here/bench/latency_warm.py" "$q" 2000 $broker $backend)
t1=$(awk '{print $14+$15}' "/proc/$jpid/stat")
echo "$label: $r  worker CPU $(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / 2000 )) us/call  load $(cut -d' ' -f1 /proc/loadavg)"
