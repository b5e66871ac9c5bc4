#!/usr/bin/env bash
# A local Redis master, a replica and three Sentinels for the failover tests, next to (never touching)
# the Redis of scripts/setup-services.sh on 6379.
#
#   scripts/redis-sentinel.sh start [-p FIRST_PORT] [-d DIR]   master FIRST_PORT (6391), replica +1,
#                                                              sentinels 20000+FIRST_PORT .. +2
#   scripts/redis-sentinel.sh stop [-d DIR]                    stops everything, removes DIR
#   scripts/redis-sentinel.sh master [-p FIRST_PORT]           the port of the master the Sentinels name
#   scripts/redis-sentinel.sh kill-master [-p FIRST_PORT] [-d DIR]   SIGKILL the current master
#
# Master name "celerity-ha"; Sentinels: quorum 2, down-after-milliseconds 1000, failover-timeout 5000.
set -euo pipefail

ACTION="${1:-}"; shift || true
FIRST_PORT=6391; DIR="${CELERITY_SENTINEL_DIR:-/tmp/celerity-redis-sentinel}"
while getopts "p:d:" o; do
  case "$o" in p) FIRST_PORT="$OPTARG" ;; d) DIR="$OPTARG" ;; *) exit 2 ;; esac
done
NAME=celerity-ha
S1=$((FIRST_PORT + 20000))
TAG=redis-sentinel
# shellcheck source=scripts/local-services.sh
source "$(dirname "$0")/local-services.sh"
ping() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }
wait_ping() { for _ in $(seq 1 100); do ping "$1" && return 0; sleep 0.1; done; die "nothing answers on $1"; }

master_port() {
  for s in $S1 $((S1 + 1)) $((S1 + 2)); do
    out=$(redis-cli -h 127.0.0.1 -p "$s" sentinel get-master-addr-by-name "$NAME" 2>/dev/null | tail -1) || continue
    [ -n "$out" ] && { echo "$out"; return 0; }
  done
  return 1
}

start() {
  command -v redis-server >/dev/null || die "redis-server is not installed (run scripts/setup-services.sh)"
  mkdir -p "$DIR"
  local m=$FIRST_PORT r=$((FIRST_PORT + 1))
  for p in $m $r; do
    ping "$p" && { log "redis on $p already running"; continue; }
    mkdir -p "$DIR/$p"
    extra=()
    [ "$p" = "$r" ] && extra=(--replicaof 127.0.0.1 "$m")
    redis-server --daemonize yes --bind 127.0.0.1 --port "$p" --save "" --appendonly no --dir "$DIR/$p" \
      --pidfile "$DIR/$p/pid" --logfile "$DIR/$p/log" "${extra[@]}" </dev/null
    wait_ping "$p"
  done
  for s in $S1 $((S1 + 1)) $((S1 + 2)); do
    ping "$s" && { log "sentinel on $s already running"; continue; }
    mkdir -p "$DIR/$s"
    cat > "$DIR/$s/sentinel.conf" <<CONF
port $s
bind 127.0.0.1
daemonize yes
pidfile $DIR/$s/pid
logfile $DIR/$s/log
dir $DIR/$s
sentinel monitor $NAME 127.0.0.1 $m 2
sentinel down-after-milliseconds $NAME 1000
sentinel failover-timeout $NAME 5000
sentinel parallel-syncs $NAME 1
CONF
    redis-server "$DIR/$s/sentinel.conf" --sentinel </dev/null
    wait_ping "$s"
  done
  # ready when the replica is in sync and every Sentinel knows the other two
  for _ in $(seq 1 200); do
    if redis-cli -h 127.0.0.1 -p "$r" info replication | grep -q "master_link_status:up" \
       && [ "$(redis-cli -h 127.0.0.1 -p "$S1" sentinel master "$NAME" | awk 'p{print; exit} /^num-other-sentinels$/{p=1}')" = 2 ]; then
      log "up: master $m, replica $r, sentinels $S1..$((S1 + 2)) (master name $NAME)"
      return 0
    fi
    sleep 0.1
  done
  die "replica or sentinels not ready (see $DIR)"
}


case "$ACTION" in
  start) start ;;
  stop) stop_all ;;
  master) master_port | tail -1 ;;
  kill-master)
    p=$(master_port | tail -1) || die "no Sentinel names a master"
    kill -9 "$(cat "$DIR/$p/pid")"; log "killed the master on $p" ;;
  *) echo "usage: $0 start|stop|master|kill-master [-p FIRST_PORT] [-d DIR]" >&2; exit 2 ;;
esac
