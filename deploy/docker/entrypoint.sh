#!/bin/sh
# The image's entrypoint:
# 1. the agents' logins: a directory mounted read-only at $ADO_LOGINS_DIR (/run/ado-logins),
#    laid out as under a home directory (.codex/auth.json, .gemini/oauth_creds.json...), is
#    copied into $HOME, where the agents may write (sessions, refreshed tokens) without
#    touching the mounted originals; files already in $HOME are kept;
# 2. the store's schema brought up to date (`ado db upgrade`) before an `ado` command:
#    idempotent, and under a lock on PostgreSQL, so replicas starting at once are safe; set
#    ADO_DB_UPGRADE=0 where a separate step migrates (the Helm chart's Job, compose's workers);
# 3. the command.
set -eu
logins=${ADO_LOGINS_DIR:-/run/ado-logins}
if [ -d "$logins" ]; then
  cp -R -n "$logins/." "$HOME/"
fi
if [ "${ADO_DB_UPGRADE:-1}" = "1" ] && [ "${1:-}" = "ado" ]; then
  ado db upgrade >&2  # its report is the entrypoint's log: the command's stdout stays its own
fi
exec "$@"
