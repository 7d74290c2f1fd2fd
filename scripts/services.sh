#!/usr/bin/env bash
# Makes Postgres and Redis available on loopback for `make run` and `make test`.
# Uses the servers already listening on 127.0.0.1 when they answer; otherwise
# installs them with apt-get (when missing) and starts private instances in
# .local/ (a data folder this project owns). Idempotent; quiet when all is well.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/.local"
PGPORT=${PGPORT:-5432}
REDISPORT=${REDISPORT:-6379}

say() { echo "services: $*" >&2; }
die() { say "$*"; exit 1; }

pg_up() { pg_isready -q -h 127.0.0.1 -p "$PGPORT" 2>/dev/null || (command -v psql >/dev/null && psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1); }
redis_up() {
  if command -v redis-cli >/dev/null; then redis-cli -h 127.0.0.1 -p "$REDISPORT" ping 2>/dev/null | grep -q PONG; return; fi
  # no client: speak RESP over bash's /dev/tcp
  exec 3<>/dev/tcp/127.0.0.1/"$REDISPORT" 2>/dev/null || return 1
  printf 'PING\r\n' >&3; local reply; read -r -t 2 reply <&3 || true; exec 3>&-
  [[ $reply == +PONG* ]]
}

apt_install() {
  local pkgs=("$@")
  command -v apt-get >/dev/null || die "cannot install ${pkgs[*]}: no apt-get on this machine; install them yourself or set DATABASE_URL/REDIS_URL"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing ${pkgs[*]} with apt-get"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${pkgs[@]}" >/dev/null \
    || die "apt-get install ${pkgs[*]} failed"
}

start_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bindir" ]; then apt_install postgresql; bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
  local dir="$data/postgres" run_as=()
  mkdir -p "$data"
  # initdb refuses to run as root: use the postgres system user for the private cluster.
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$data" postgres
    chown postgres "$data"; run_as=(runuser -u postgres --)
  fi
  if [ ! -s "$dir/PG_VERSION" ]; then
    say "initialising a private Postgres in $dir"
    "${run_as[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  say "starting Postgres on 127.0.0.1:$PGPORT"
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k /tmp" start >/dev/null \
    || die "Postgres did not start; see $dir/server.log"
}

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$data/redis"
  say "starting Redis on 127.0.0.1:$REDISPORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDISPORT" --save "" --appendonly no \
    --dir "$data/redis" --logfile "$data/redis/redis.log" >/dev/null || die "Redis did not start; see $data/redis/redis.log"
  for _ in $(seq 50); do redis_up && return; sleep 0.1; done
  die "Redis did not answer on 127.0.0.1:$REDISPORT"
}

pg_up || start_postgres
pg_up || die "Postgres is not answering on 127.0.0.1:$PGPORT"
redis_up || start_redis

# The local database for `make run` (tests create their own).
if ! psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -tAc "select 1 from pg_database where datname='elasticpool'" 2>/dev/null | grep -q 1; then
  psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -qc 'CREATE DATABASE elasticpool' >/dev/null || die "cannot create database elasticpool"
fi
