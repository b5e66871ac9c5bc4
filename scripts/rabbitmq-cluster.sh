#!/usr/bin/env bash
# A local RabbitMQ cluster for the high-availability tests and benchmarks, next to (never touching)
# the RabbitMQ of scripts/setup-services.sh on 5672.
#
#   scripts/rabbitmq-cluster.sh start  [-n NODES] [-p FIRST_PORT] [-d DIR] [-t CONSUMER_TIMEOUT_MS]
#   scripts/rabbitmq-cluster.sh stop   [-d DIR]            stops every node, removes DIR
#   scripts/rabbitmq-cluster.sh kill   NODE [-d DIR]       SIGKILL one node (as a crash would): NODE is 1..N
#   scripts/rabbitmq-cluster.sh status [-d DIR]
#   scripts/rabbitmq-cluster.sh leader QUEUE [-d DIR]     the number of the node leading a quorum queue
#
# Node i is "ha<i>@localhost", AMQP on 127.0.0.1:FIRST_PORT+i-1 (default 5681..5683, guest/guest,
# vhost /), Erlang distribution on 25000+that port, data and logs under DIR/ha<i> (default
# /tmp/celerity-rabbit-cluster). The nodes share an Erlang cookie of their own (DIR/.erlang.cookie,
# via HOME=DIR) and an env file of their own (RABBITMQ_CONF_ENV_FILE), so /etc/rabbitmq's node
# name and the system node's cookie are not used; no plugins (no management port clash).
# With -t the nodes close a channel that holds a delivery unacked longer than that (consumer_timeout,
# checked every second instead of RabbitMQ's 60 s channel tick).
# Each node takes about 100-150 MB. Idempotent start; "stop" is safe to run any time.
set -euo pipefail

ACTION="${1:-}"; shift || true
NODES=3; FIRST_PORT=5681; DIR="${CELERITY_CLUSTER_DIR:-/tmp/celerity-rabbit-cluster}"; TIMEOUT=""
KILL_NODE=""; QUEUE=""
if [ "$ACTION" = kill ]; then KILL_NODE="${1:?kill needs a node number}"; shift; fi
if [ "$ACTION" = leader ]; then QUEUE="${1:?leader needs a queue name}"; shift; fi
while getopts "n:p:d:t:" o; do
  case "$o" in
    n) NODES="$OPTARG" ;; p) FIRST_PORT="$OPTARG" ;; d) DIR="$OPTARG" ;; t) TIMEOUT="$OPTARG" ;;
    *) echo "usage: see the head of $0" >&2; exit 2 ;;
  esac
done

RMQ=/usr/lib/rabbitmq/bin
TAG=rabbitmq-cluster
# shellcheck source=scripts/local-services.sh
source "$(dirname "$0")/local-services.sh"

node_env() { # i: the environment of node i, for rabbitmq-server and rabbitmqctl alike
  local i="$1" port=$((FIRST_PORT + $1 - 1)) d="$DIR/ha$1"
  echo HOME="$DIR" RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" RABBITMQ_NODENAME="ha$i@localhost" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$((port + 20000))" \
    RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/pid" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$d/advanced.config" ERL_EPMD_ADDRESS=127.0.0.1 \
    ERL_FLAGS="'-kernel inet_dist_use_interface {127,0,0,1}'"
}

ctl() { # i args...: rabbitmqctl against node i
  local i="$1"; shift
  eval env "$(node_env "$i")" "$RMQ/rabbitmqctl" -n "ha$i@localhost" "$@"
}

launch() { # i: start node i in the background
  local i="$1" d="$DIR/ha$1"
  log "starting ha$i@localhost on 127.0.0.1:$((FIRST_PORT + i - 1))"
  ( eval env "$(node_env "$i")" "$RMQ/rabbitmq-server" -detached ) </dev/null >"$d/log/startup.out" 2>&1 \
    || die "ha$i did not start (see $d/log)"
}

booted() { # i: node i's application is up within 180 s; false early if its process died.
  # (await_startup gives up at once while the Erlang node is not yet registered with epmd, and
  # rabbitmqctl wait does not notice a process that died, so poll both.)
  local pidf="$DIR/ha$1/pid" deadline=$((SECONDS + 180))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ -s "$pidf" ]; then
      ctl "$1" -q await_startup --timeout 60 </dev/null >/dev/null 2>&1 && return 0
      kill -0 "$(cat "$pidf")" 2>/dev/null || return 1
    fi
    sleep 1
  done
  return 1
}

node_count() { ls -d "$DIR"/ha* 2>/dev/null | wc -l; }

start() {
  command -v "$RMQ/rabbitmq-server" >/dev/null || die "RabbitMQ is not installed (run scripts/setup-services.sh)"
  mkdir -p "$DIR"
  [ -f "$DIR/.erlang.cookie" ] || { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$DIR/.erlang.cookie"; }
  chmod 400 "$DIR/.erlang.cookie"
  : > "$DIR/rabbitmq-env.conf"           # nothing from /etc/rabbitmq/rabbitmq-env.conf (its NODENAME)
  echo "[]." > "$DIR/enabled_plugins"
  for i in $(seq 1 "$NODES"); do
    local d="$DIR/ha$i" port=$((FIRST_PORT + i - 1))
    mkdir -p "$d/log" "$d/mnesia"
    { echo "listeners.tcp.local = 127.0.0.1:$port"
      echo "loopback_users.guest = true"
      echo "disk_free_limit.absolute = 50MB"
      echo "vm_memory_high_watermark.relative = 0.1"
      [ -n "$TIMEOUT" ] && echo "consumer_timeout = $TIMEOUT"
    } > "$d/rabbitmq.conf"
    # consumer_timeout is checked on the channel's tick, every 60 s by default: every second here
    if [ -n "$TIMEOUT" ]; then echo "[{rabbit, [{channel_tick_interval, 1000}]}]." > "$d/advanced.config"
    else echo "[]." > "$d/advanced.config"; fi
    if ctl "$i" -q status >/dev/null 2>&1; then
      log "ha$i@localhost already running on $port"
      continue
    fi
    launch "$i"
  done
  for i in $(seq 1 "$NODES"); do
    booted "$i" && continue
    # a node that died while booting gets one fresh start (seen once in CI, cause not kept)
    log "ha$i did not boot, retrying once; its log ends with:"; tail -n 20 "$DIR/ha$i"/log/*.log "$DIR/ha$i/log/startup.out" >&2 || true
    [ -f "$DIR/ha$i/pid" ] && kill -9 "$(cat "$DIR/ha$i/pid")" 2>/dev/null || true
    rm -rf "$DIR/ha$i/mnesia" "$DIR/ha$i/pid"; mkdir -p "$DIR/ha$i/mnesia"
    launch "$i"
    booted "$i" || { tail -n 40 "$DIR/ha$i"/log/*.log >&2 || true; die "ha$i did not boot (see $DIR/ha$i/log)"; }
  done
  for i in $(seq 2 "$NODES"); do
    if ctl 1 -q cluster_status 2>/dev/null | grep -q "ha$i@localhost"; then
      continue
    fi
    log "ha$i joins ha1"
    ctl "$i" -q stop_app </dev/null
    ctl "$i" -q join_cluster ha1@localhost </dev/null || die "ha$i could not join ha1"
    ctl "$i" -q start_app </dev/null
  done
  ctl 1 -q await_online_nodes "$NODES" --timeout 120 </dev/null 2>/dev/null || true
  log "cluster up: $(seq -s, "$FIRST_PORT" "$((FIRST_PORT + NODES - 1))") (amqp://guest:guest@127.0.0.1:PORT//)"
}


case "$ACTION" in
  start) start ;;
  stop) stop_all ;;
  kill)
    pid=$(cat "$DIR/ha$KILL_NODE/pid" 2>/dev/null) || die "no pid file for ha$KILL_NODE"
    kill -9 "$pid"; log "killed ha$KILL_NODE@localhost (pid $pid)" ;;
  leader)
    for i in $(seq 1 "$(node_count)"); do # ask any node that is up
      if out=$(ctl "$i" -q list_queues name leader </dev/null 2>/dev/null); then
        awk -v q="$QUEUE" '$1 == q { sub(/^ha/, "", $2); sub(/@.*/, "", $2); print $2; found=1 } END { exit !found }' <<<"$out" \
          && exit 0
      fi
    done
    die "no leader found for queue $QUEUE" ;;
  status)
    for i in $(seq 1 "$(node_count)"); do
      if ctl "$i" -q status >/dev/null 2>&1; then echo "ha$i@localhost up"; else echo "ha$i@localhost down"; fi
    done ;;
  *) echo "usage: $0 start|stop|kill N|leader QUEUE|status [-n NODES] [-p FIRST_PORT] [-d DIR] [-t CONSUMER_TIMEOUT_MS]" >&2; exit 2 ;;
esac
