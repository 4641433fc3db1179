#!/bin/sh
# Temporal's schema on PostgreSQL, run by docker-compose.yml's temporal-schema job in the
# upstream admin-tools image (what its auto-setup image did, without running a server):
# create both databases if missing, then bring each schema to the newest version the image
# ships. Safe on every start. SQL_PASSWORD comes from the environment, never the command line.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port="${DB_PORT:-5432}"
schema=/etc/temporal/schema/postgresql/v12
for pair in "temporal:temporal" "temporal_visibility:visibility"; do
  db="${pair%%:*}"
  dir="${pair##*:}"
  sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" --db "$db" "$@"; }
  sql create-database || echo "database $db exists"
  sql setup-schema -v 0.0
  sql update-schema -d "$schema/$dir/versioned"
done
