#!/usr/bin/env bash
# The ETL demo: builds the engine, starts a throwaway PostgreSQL 15 server
# and a local cluster (master + 2 workers), generates a day of orders with a
# few deliberate defects, and runs the pipeline deploy/local/orders_daily.yaml
# for 2026-11-01: extract (CSV files and a PostgreSQL table), validate (a
# quality gate, dead letters), join and aggregate on the cluster, then load
# the revenue per country into PostgreSQL (upsert) and the good orders into a
# files warehouse (one directory per date). It runs the same date a second
# time to show that the targets do not change, and prints what it loaded.
#
#   etl_demo.sh [--keep]
#
# Everything is stopped and removed at the end unless --keep is given.
# Environment: MR_ETL_DEMO_ROOT (default /tmp/mr-etl-demo) holds the cluster,
# the database, the data and the warehouse; BUILD_DIR overrides the build
# directory.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROOT=${MR_ETL_DEMO_ROOT:-/tmp/mr-etl-demo}
BIN=${BUILD_DIR:-$REPO/build}/bin
CLUSTER=$REPO/deploy/local/cluster.sh
PGBIN=/usr/lib/postgresql/15/bin
KEEP=0
DATE=2026-11-01

for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "etl_demo.sh: unknown argument: $arg (usage: etl_demo.sh [--keep])" >&2; exit 2 ;;
  esac
done

"$REPO/deploy/build.sh"

# Stop what an earlier run left, then start afresh.
"$CLUSTER" stop --root "$ROOT/cluster" --bin "$BIN" 2>/dev/null || true
if [[ -f "$ROOT/pg/data/postmaster.pid" ]]; then
  as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }
  as_pg "$PGBIN/pg_ctl" -D "$ROOT/pg/data" -m fast stop >/dev/null 2>&1 || true
fi
rm -rf "$ROOT"/cluster "$ROOT"/pg "$ROOT"/raw "$ROOT"/warehouse  # only what this script makes
mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)

# PostgreSQL runs as the postgres user when we are root (it refuses root).
as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }
mkdir -p "$ROOT/pg"
if ((EUID == 0)); then chown postgres:postgres "$ROOT/pg"; chmod 755 "$ROOT"; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$ROOT/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  --no-sync >"$ROOT/initdb.log" 2>&1 || { cat "$ROOT/initdb.log" >&2; exit 1; }
as_pg "$PGBIN/pg_ctl" -D "$ROOT/pg/data" -l "$ROOT/pg/postgres.log" -w \
  -o "-p $PORT -k $ROOT/pg -c listen_addresses=127.0.0.1" start >/dev/null
stop_all() {
  "$CLUSTER" stop --root "$ROOT/cluster" --bin "$BIN" || true
  as_pg "$PGBIN/pg_ctl" -D "$ROOT/pg/data" -m fast stop >/dev/null || true
}
if ((KEEP == 0)); then trap stop_all EXIT; fi
export DW_DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
export SRC_DSN=$DW_DSN
psql() { command psql "$DW_DSN" -v ON_ERROR_STOP=1 -q "$@"; }

# The source table (users), the warehouse table (daily_revenue).
psql <<'SQL'
CREATE TABLE users (user_id bigint PRIMARY KEY, country text NOT NULL);
INSERT INTO users SELECT g, (ARRAY['DE','FR','US','JP'])[g % 4 + 1] FROM generate_series(1, 50) g;
CREATE TABLE daily_revenue (dt date, country text, sum_amount numeric(14,2),
                            orders bigint, PRIMARY KEY (dt, country));
SQL

# A day of orders: 2,000 good rows in two files, and five defects.
RAW=$ROOT/raw/orders/dt=$DATE
mkdir -p "$RAW"
gen_orders() {  # FIRST LAST
  echo "order_id,user_id,amount,status,created_at"
  awk -v first="$1" -v last="$2" 'BEGIN {
    for (i = first; i <= last; i++) {
      cents = (i * 137) % 20000
      printf "%d,%d,%d.%02d,%s,2026-11-01T%02d:%02d:00Z\n", i, 1 + (i * 7) % 50,
             int(cents / 100), cents % 100, (i % 10 == 0 ? "refunded" : "paid"), i % 24, i % 60
    }
  }'
}
gen_orders 1 1000 >"$RAW/orders-a.csv"
{
  gen_orders 1001 2000
  echo "2001,,12.00,paid,2026-11-01T10:00:00Z"        # no user
  echo "500,1,0.00,paid,2026-11-01T08:20:00Z"         # order 500 again
  echo "2002,3,-5.00,paid,2026-11-01T11:00:00Z"       # negative amount
  echo "2003,4,7.50,shipped,2026-11-01T12:00:00Z"     # unknown status
  echo "2004,5,abc,paid,2026-11-01T13:00:00Z"         # not a decimal
} >"$RAW/orders-b.csv"

sed -e "s|@RAW@|$ROOT/raw|" -e "s|@WAREHOUSE@|$ROOT/warehouse|" \
  "$REPO/deploy/local/orders_daily.yaml" >"$ROOT/orders_daily.yaml"

"$CLUSTER" start --root "$ROOT/cluster" --workers 2 --bin "$BIN"
MASTER=$(head -n 1 "$ROOT/cluster/master.addr")
mrctl() { "$BIN/mrctl" --master "$MASTER" "$@"; }

echo
mrctl pipeline check "$ROOT/orders_daily.yaml"
echo
echo "== pipeline run for $DATE"
mrctl pipeline run "$ROOT/orders_daily.yaml" --date "$DATE" --wait
echo
echo "== daily_revenue in PostgreSQL"
psql -c "SELECT * FROM daily_revenue ORDER BY dt, country"
echo "== the same date again: same rows"
mrctl pipeline run "$ROOT/orders_daily.yaml" --date "$DATE" --wait >/dev/null
psql -c "SELECT * FROM daily_revenue ORDER BY dt, country"
echo "== dead letters of the last run"
cat "$ROOT"/cluster/master/pipeline-staging/orders_daily/$DATE/run-000002/orders_ok/dead_letter-r-*
echo
echo "== the warehouse: $(cat "$ROOT"/warehouse/orders/dt=$DATE/part-* | wc -l) orders in $ROOT/warehouse/orders/dt=$DATE/"
mrctl pipeline list
if ((KEEP)); then
  echo "Still running: the cluster (master $MASTER; deploy/local/cluster.sh stop --root $ROOT/cluster)"
  echo "and PostgreSQL ($DW_DSN)."
fi
