#!/usr/bin/env bash
# Runs every test of the solution on a fresh Debian 12 machine with the .NET 10 SDK.
# Installs what the tests need when it is missing (redis-server and chromium from apt), starts Redis, runs
# `dotnet test` on the whole solution and ends with one plain line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

REDIS_PORT="${LLMPROXY_TEST_REDIS_PORT:-6391}"
RESULTS="$(pwd)/artifacts/test-results"

APT_UPDATED=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  apt-get install -y -qq "$@" >/dev/null
}

install_tools() {
  # redis-server: the rate-limit tests; chromium: the dashboard test renders the page headless.
  command -v redis-server >/dev/null 2>&1 || { echo "Installing redis-server from apt..."; apt_install redis-server; }
  [ -x /usr/bin/chromium ] || { echo "Installing chromium from apt..."; apt_install chromium; }
}

start_redis() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return; fi
  redis-server --daemonize yes --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --pidfile "/tmp/llmproxy-test-redis-$REDIS_PORT.pid" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "redis-server did not start on port $REDIS_PORT" >&2
  exit 1
}

stop_redis() {
  local pidfile="/tmp/llmproxy-test-redis-$REDIS_PORT.pid"
  if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
}

install_tools
start_redis
trap stop_redis EXIT
export LLMPROXY_TEST_REDIS="127.0.0.1:$REDIS_PORT"

rm -rf "$RESULTS"
set +e
dotnet test LlmProxy.sln --configuration Release --logger "trx" --results-directory "$RESULTS" "$@"
status=$?
set -e

# dotnet test prints no "N passed, N failed" line: count the outcomes in the TRX files.
passed=0; failed=0; skipped=0
shopt -s nullglob
for trx in "$RESULTS"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); p=${p:-0}
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=${f:-0}
  s=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters"); s=${s:-0}
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  status=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
