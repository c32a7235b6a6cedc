#!/bin/sh
# Starts Greenlight in a container (or anywhere): `hub` with its settings from GREENLIGHT_* variables
# and/or the file named by GREENLIGHT_CONFIG, or any other greenlight command (migrate, backup, user…),
# or, for debugging, any program (`sh`).
#
#   docker run greenlight                       the hub, listening on 0.0.0.0:7300, data in /var/lib/greenlight
#   docker run greenlight hub --log-level debug  the same with more flags (flags beat variables)
#   docker run greenlight migrate status
#   docker run greenlight --help
set -eu

# The install folder: where this script's parent is (the image puts it in /app/deploy).
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
greenlight="$root/bin/greenlight.mjs"

if [ ! -f "$root/dist/server/greenlight.mjs" ]; then
  echo "greenlight-entrypoint: $root/dist/server is missing; this image or folder was not built (npm run build:server)" >&2
  exit 2
fi

# In a container the hub must listen beyond loopback; an explicit variable or flag still wins.
: "${GREENLIGHT_HOST:=0.0.0.0}"
: "${GREENLIGHT_DATA_DIR:=/var/lib/greenlight}"
export GREENLIGHT_HOST GREENLIGHT_DATA_DIR

case "${1:-hub}" in
  -*) set -- hub "$@" ;;
  hub | user | request | decide | cancel | claim | release | show | list | grant | audit | backup | migrate | help) ;;
  *) exec "$@" ;;
esac
[ "$#" -eq 0 ] && set -- hub

# exec: node becomes the process the container runtime signals; the hub shuts down cleanly on SIGTERM.
exec node "$greenlight" "$@"
