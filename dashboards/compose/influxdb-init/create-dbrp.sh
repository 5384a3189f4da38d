#!/bin/sh
# Runs once, after influxdb:2.7's first-start setup (DOCKER_INFLUXDB_INIT_MODE=setup), with the influx CLI
# already configured with the admin token. Maps the bucket to database "recovery", retention policy "autogen",
# so the v1-compatible /write and /query API (InfluxQL) used by recovery-monitor and Grafana reach it.
set -eu

bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:?DOCKER_INFLUXDB_INIT_BUCKET_ID is exported by the influxdb entrypoint}"
database="${DOCKER_INFLUXDB_INIT_BUCKET:-recovery}"

if influx v1 dbrp list --db "$database" 2>/dev/null | grep -q "$bucket_id"; then
    echo "create-dbrp: mapping for database $database already exists"
    exit 0
fi
influx v1 dbrp create --bucket-id "$bucket_id" --db "$database" --rp autogen --default
echo "create-dbrp: database $database (rp autogen) → bucket $bucket_id"
