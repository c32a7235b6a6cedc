#!/bin/sh
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring, so tests reach a real
# Secret Service. Where those tools are missing, runs the command as it is (keychain tests then say why they skip).
if [ -n "${GREENLIGHT_KEYRING_READY:-}" ] || ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  exec "$@"
fi
export GREENLIGHT_KEYRING_READY=1
exec dbus-run-session -- sh -c 'eval "$(printf pass | gnome-keyring-daemon --unlock --components=secrets)"; export GNOME_KEYRING_CONTROL; exec "$@"' sh "$@"
