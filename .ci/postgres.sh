#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, listening on 127.0.0.1 only.
#   .ci/postgres.sh start DIR PORT   create the cluster in DIR on first use, start it, wait
#   .ci/postgres.sh stop DIR         stop it (fast shutdown); nothing to do if it is down
# User, password and database are all "playground". As root, the server runs as the
# "postgres" system user, since PostgreSQL refuses to run as root.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "postgres.sh: install the postgresql package first" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); owner=postgres; else as_owner=(); owner=$(id -un); fi

start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    chown "$owner" "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        printf 'playground\n' > "$dir/pw"
        chown "$owner" "$dir/pw"
        "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U playground --pwfile="$dir/pw" \
            --auth=scram-sha-256 -E UTF8 --no-locale --no-sync > "$dir/initdb.log"
        rm -f "$dir/pw"
        {
            echo "listen_addresses = '127.0.0.1'"
            echo "unix_socket_directories = ''"
            echo "fsync = off"
            echo "synchronous_commit = off"
        } >> "$dir/data/postgresql.conf"
    fi
    if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w start > /dev/null
    fi
    for _ in $(seq 1 120); do
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 0.25
    done
    if ! PGPASSWORD=playground "$bindir/psql" -h 127.0.0.1 -p "$port" -U playground -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'playground'" | grep -q 1; then
        PGPASSWORD=playground "$bindir/createdb" -h 127.0.0.1 -p "$port" -U playground playground
    fi
    echo "postgres.sh: ready on 127.0.0.1:$port" >&2
}

stop() {
    local dir=$1
    if [ -f "$dir/data/PG_VERSION" ] && "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null
    fi
}

case "${1:-}" in
    start) start "$2" "$3" ;;
    stop) stop "$2" ;;
    *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
