#!/usr/bin/env bash
# The README's fresh-machine path, proved on what is committed: a clean clone, installed without
# keytar (the optional native module a machine without libsecret cannot build), `npm run build`,
# `npm start` answering /healthz within a time bound, and the next commands npm start prints, run
# as printed, ending with an approved request.
#
# node_modules: by default hard-linked from this checkout (cp -al, seconds) instead of a second
# `npm ci` (minutes). That still proves the point: the clone holds only committed files, keytar is
# removed from its node_modules (unlinking there leaves this checkout's copy alone), and the build
# and start run in the clone. FRESH_NPM_CI=1 runs a real `npm ci` in the clone instead.
#
# Usage: scripts/fresh-machine-check.sh
#   FRESH_NPM_CI=1           install with npm ci instead of linking node_modules
#   FRESH_TIMEOUT_SECONDS=N  how long npm start may take to answer /healthz (default 120)
#   FRESH_KEEP=1             keep the scratch folder (clone, logs, data) for a look afterwards
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
timeout_s="${FRESH_TIMEOUT_SECONDS:-120}"
work="$(mktemp -d "${TMPDIR:-/tmp}/greenlight-fresh-XXXXXX")"
clone="$work/greenlight"
log="$work/start.log"
start_pid=""

step() { printf '[fresh-machine] %s\n' "$*"; }
fail() {
  printf '[fresh-machine] FAILED: %s\n' "$*" >&2
  if [ -f "$log" ]; then printf -- '--- npm start output (last 40 lines):\n' >&2; tail -n 40 "$log" >&2; fi
  exit 1
}
stop_start() {
  if [ -n "$start_pid" ] && kill -0 "$start_pid" 2>/dev/null; then
    # npm start runs in its own process group (setsid): end npm, the script and the hub together.
    kill -TERM -- "-$start_pid" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while kill -0 "$start_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL -- "-$start_pid" 2>/dev/null || true
    wait "$start_pid" 2>/dev/null || true
  fi
  start_pid=""
}
cleanup() {
  stop_start
  if [ -n "${FRESH_KEEP:-}" ]; then step "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Polls until the command succeeds or the deadline passes; npm start must still be running meanwhile.
wait_until() {
  local what="$1" deadline=$((SECONDS + timeout_s))
  shift
  until "$@"; do
    if [ -n "$start_pid" ] && ! kill -0 "$start_pid" 2>/dev/null; then fail "npm start exited while waiting for $what"; fi
    [ "$SECONDS" -lt "$deadline" ] || fail "no $what within ${timeout_s}s"
    sleep 0.5
  done
}
# Node rather than curl: a fresh machine has Node (the README asks for it), not necessarily curl.
answers() { node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"; }

commit="$(git -C "$root" rev-parse HEAD)"
step "cloning $commit into $clone"
git clone --quiet --no-checkout "$root" "$clone"
git -C "$clone" checkout --quiet --detach "$commit"
cd "$clone"

if [ "${FRESH_NPM_CI:-0}" = 1 ]; then
  step 'npm ci'
  npm ci --no-audit --no-fund
else
  [ -d "$root/node_modules" ] || fail "no node_modules in $root to link: run npm ci there first, or FRESH_NPM_CI=1"
  step "hard-linking node_modules from $root"
  cp -al "$root/node_modules" node_modules
  # Tool caches are rewritten in place; through the links that would reach the checkout's own copy.
  rm -rf node_modules/.vite node_modules/.cache
fi
rm -rf node_modules/keytar
[ ! -e node_modules/keytar ] || fail 'node_modules/keytar is still there'

step 'npm run build'
npm run build >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; fail 'npm run build'; }
node --input-type=module -e "
  const { loadKeytar } = await import('./dist/electron/electron/keychain.js');
  if ((await loadKeytar()) !== null) { console.error('keytar loaded, though it was removed'); process.exit(1); }
" || fail 'the built desktop shell does not cope with keytar missing'

port="$(node -e "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")"
data="$work/data"
url="http://127.0.0.1:$port"
unset GREENLIGHT_POLICY GREENLIGHT_ADMIN_TOKEN GREENLIGHT_HUB GREENLIGHT_TOKEN GREENLIGHT_DATABASE_URL GREENLIGHT_DATABASE_LISTEN_URL GREENLIGHT_LOG_LEVEL
step "npm start on port $port, data in $data"
GREENLIGHT_DATA_DIR="$data" GREENLIGHT_PORT="$port" setsid npm start >"$log" 2>&1 </dev/null &
start_pid=$!
wait_until "answer from $url/healthz" answers "$url/healthz"
step "the hub answers $url/healthz"
answers "$url/" || fail "no web console at $url/"
wait_until 'next steps from npm start' grep -q '^\[greenlight\] Next, in another terminal' "$log"
[ -f "$data/policy.yaml" ] || fail "no starter policy in $data"
grep -qF "[greenlight] Web console: $url/" "$log" || fail 'npm start did not print the console URL'
grep -qF "[greenlight] Admin token: in $data/admin-token" "$log" || fail 'npm start did not say where the admin token is'

# The commands npm start printed, each run as printed: only where their output goes is added here.
mapfile -t next < <(sed -n 's/^\[greenlight\]   //p' "$log")
[ "${#next[@]}" -eq 4 ] || fail "expected an export and three commands after 'Next', got ${#next[@]} lines"
step 'running the printed commands'
(
  set -euo pipefail
  eval "${next[0]}"
  eval "${next[1]}" >"$work/bob.token"
  eval "${next[2]}"
  eval "${next[3]}" >"$work/grant" 2>"$work/request.log" &
  waiting=$!
  deadline=$((SECONDS + timeout_s))
  until grep -qE 'req_[A-Za-z0-9]+ pending' "$work/request.log"; do
    kill -0 "$waiting" 2>/dev/null || { cat "$work/request.log" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || exit 1
    sleep 0.5
  done
  id="$(grep -oE 'req_[A-Za-z0-9]+' "$work/request.log" | head -n 1)"
  GREENLIGHT_TOKEN="$(cat "$work/bob.token")" npx greenlight decide "$id" approve --comment 'fresh machine check' >/dev/null
  wait "$waiting"
) || fail "the commands npm start printed did not end in an approved request (see $work/request.log)"
grep -qE '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$work/grant" || fail 'the request was approved but printed no grant'
step 'the printed commands added bob and alice, and alice got a grant once bob approved'

stop_start

# Again on the same data, from a subfolder, with a policy there passed after `--`: the path is the
# user's, relative to where they typed it, not to the package folder npm runs scripts from.
mkdir "$clone/mine"
printf 'rules:\n  - name: everything-goes\n    autoApprove: true\n' >"$clone/mine/policy.yaml"
step 'npm start -- --policy ./policy.yaml --log-level warn, from a subfolder'
cd "$clone/mine"
# Started straight from this shell (no subshell), so $! is the new process group stop_start ends.
GREENLIGHT_DATA_DIR="$data" GREENLIGHT_PORT="$port" setsid npm start -- --policy ./policy.yaml --log-level warn >"$log" 2>&1 </dev/null &
start_pid=$!
cd "$clone"
wait_until "answer from $url/healthz" answers "$url/healthz"
wait_until 'next steps from npm start' grep -q '^\[greenlight\] Next, in another terminal' "$log"
grep -qF "[greenlight] Policy: $clone/mine/policy.yaml" "$log" || fail 'npm start did not take --policy relative to where it was run'
! grep -q '"level":30' "$log" || fail 'npm start did not pass --log-level warn to the hub'
outcome="$(GREENLIGHT_HUB="$url" GREENLIGHT_TOKEN="$(cat "$data/admin-token")" npx greenlight request --action deploy --resource web --env production --reason 'second start' --json)"
grep -q '"status": "approved"' <<<"$outcome" || fail "the hub did not use the policy given after --: $outcome"
step 'the same data, a policy passed after --, and flags for the hub all carried through'
stop_start

step "ok: a clean clone of $commit builds without keytar, npm start serves it, and its next steps work"
