#!/bin/sh
# The image's entrypoint: bring the store's schema up to date (`ado db upgrade`), then run the
# command. The upgrade is idempotent and takes a lock on PostgreSQL, so replicas starting at
# once are safe; set ADO_DB_UPGRADE=0 where a separate step migrates (the Helm chart's
# migration Job, the compose file's worker).
set -eu
if [ "${ADO_DB_UPGRADE:-1}" = "1" ] && [ "${1:-}" = "ado" ]; then
  ado db upgrade
fi
exec "$@"
