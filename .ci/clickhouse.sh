#!/usr/bin/env bash
# Two throw-away ClickHouse servers for the central-store integration tests.
#
#   eval "$(bash .ci/clickhouse.sh start)"   # prints export lines
#   bash .ci/clickhouse.sh stop              # uses GATEWARDEN_CLICKHOUSE_DIR
#
# Each server listens on free loopback ports with its own data directory under
# one temporary directory. Node 1 alone is a single-node server
# (GATEWARDEN_CLICKHOUSE); both together form the two-shard cluster
# "gatewarden_two_shards" declared in both configs (remote_servers), used by
# the cluster tests (GATEWARDEN_CLICKHOUSE_CLUSTER); GATEWARDEN_CLICKHOUSE_NODE2
# is node 2 alone, for tests that kill and revive a server (kill 2, revive 2)
# without disturbing tests on node 1. No ZooKeeper: schema
# changes are run on each shard by the client, not with ON CLUSTER.
set -euo pipefail

cluster=gatewarden_two_shards

server_bin() {
  if command -v clickhouse-server >/dev/null 2>&1; then echo clickhouse-server; return; fi
  for b in /usr/bin/clickhouse-server /usr/sbin/clickhouse-server; do
    if [ -x "$b" ]; then echo "$b"; return; fi
  done
  if command -v clickhouse >/dev/null 2>&1; then echo "clickhouse server"; return; fi
  echo "clickhouse.sh: no clickhouse-server binary (apt-get install clickhouse-server)" >&2
  exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if port_free "$p" && ! grep -qx "$p" "$dir/ports" 2>/dev/null; then
      echo "$p" >>"$dir/ports"
      echo "$p"
      return
    fi
  done
  echo "clickhouse.sh: no free port found" >&2
  exit 1
}

write_config() { # node tcp http interserver tcp1 tcp2
  local n=$1 d="$dir/node$1"
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/log" "$d/format_schemas"
  cat >"$d/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>$d/log/server.log</log>
    <errorlog>$d/log/server.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$2</tcp_port>
  <http_port>$3</http_port>
  <interserver_http_port>$4</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>256</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>64</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers>
    <$cluster>
      <shard><replica><host>127.0.0.1</host><port>$5</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$6</port></replica></shard>
    </$cluster>
  </remote_servers>
</yandex>
XML
}

start() {
  local bin
  bin=$(server_bin)
  dir=$(mktemp -d /tmp/gatewarden-clickhouse.XXXXXX)
  cat >"$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
      <max_threads>2</max_threads>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  local t1 h1 i1 t2 h2 i2
  t1=$(free_port); h1=$(free_port); i1=$(free_port)
  t2=$(free_port); h2=$(free_port); i2=$(free_port)
  write_config 1 "$t1" "$h1" "$i1" "$t1" "$t2"
  write_config 2 "$t2" "$h2" "$i2" "$t1" "$t2"
  for n in 1 2; do
    # shellcheck disable=SC2086
    nohup $bin --config-file="$dir/node$n/config.xml" \
      >"$dir/node$n/log/stdout.log" 2>&1 </dev/null &
    echo $! >"$dir/node$n/pid"
  done
  for n in 1 2; do
    local port=$t1
    [ "$n" = 2 ] && port=$t2
    local ok=
    for _ in $(seq 1 120); do
      if ! kill -0 "$(cat "$dir/node$n/pid")" 2>/dev/null; then break; fi
      if clickhouse-client --host 127.0.0.1 --port "$port" --query 'SELECT 1' >/dev/null 2>&1; then ok=1; break; fi
      sleep 0.5
    done
    if [ -z "$ok" ]; then
      echo "clickhouse.sh: node $n did not answer on 127.0.0.1:$port" >&2
      tail -n 30 "$dir/node$n/log/stdout.log" "$dir/node$n/log/server.err.log" >&2 2>/dev/null || true
      GATEWARDEN_CLICKHOUSE_DIR=$dir stop >/dev/null
      exit 1
    fi
  done
  echo "export GATEWARDEN_CLICKHOUSE_DIR=$dir"
  echo "export GATEWARDEN_CLICKHOUSE=clickhouse://127.0.0.1:$t1/gatewarden"
  echo "export GATEWARDEN_CLICKHOUSE_CLUSTER=clickhouse://127.0.0.1:$t1/gatewarden_cluster?cluster=$cluster"
  echo "export GATEWARDEN_CLICKHOUSE_NODE2=clickhouse://127.0.0.1:$t2/gatewarden"
}

stop() {
  dir=${GATEWARDEN_CLICKHOUSE_DIR:-}
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "clickhouse.sh: GATEWARDEN_CLICKHOUSE_DIR not set or gone; nothing to stop" >&2
    return 0
  fi
  case "$dir" in /tmp/gatewarden-clickhouse.*) ;; *) echo "clickhouse.sh: refusing to remove $dir" >&2; return 1;; esac
  for n in 1 2; do
    local pidf="$dir/node$n/pid"
    [ -f "$pidf" ] || continue
    local pid
    pid=$(cat "$pidf")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
  echo "clickhouse.sh: stopped and removed $dir"
}

# kill N: SIGKILL node N (fault tests); revive N: start it again on the same
# ports and data directory and wait until it answers.
node_dir() {
  dir=${GATEWARDEN_CLICKHOUSE_DIR:-}
  case "$1" in 1|2) ;; *) echo "clickhouse.sh: node is 1 or 2" >&2; exit 2;; esac
  [ -n "$dir" ] && [ -f "$dir/node$1/config.xml" ] || { echo "clickhouse.sh: no node $1 (GATEWARDEN_CLICKHOUSE_DIR)" >&2; exit 1; }
}

kill_node() {
  node_dir "$1"
  local pid
  pid=$(cat "$dir/node$1/pid")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
}

revive_node() {
  node_dir "$1"
  local bin port
  bin=$(server_bin)
  port=$(sed -n 's:.*<tcp_port>\([0-9]*\)</tcp_port>.*:\1:p' "$dir/node$1/config.xml")
  # shellcheck disable=SC2086
  nohup $bin --config-file="$dir/node$1/config.xml" >>"$dir/node$1/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/node$1/pid"
  for _ in $(seq 1 120); do
    if clickhouse-client --host 127.0.0.1 --port "$port" --query 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "clickhouse.sh: node $1 did not come back on 127.0.0.1:$port" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) kill_node "${2:-}" ;;
  revive) revive_node "${2:-}" ;;
  *) echo "usage: $0 start|stop|kill N|revive N" >&2; exit 2 ;;
esac
