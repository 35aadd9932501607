#!/usr/bin/env bash
# LlmProxy end-to-end benchmark, one command: builds LlmProxy and the benchmark in Release, then runs
# the fake upstream, a bare YARP proxy and the gateway (metering on, metering off, in-memory limits, Redis limits and
# failover to a second target, switched by config reload) as separate processes on loopback and prints the tables.
#
#   bash bench/run.sh [--seconds S] [--warmup S] [--rounds N] [--concurrency C] [--rate R]
#                     [--stream-samples N] [--stream-warmup N] [--skip-limits true] [--pin true]
#                     [--targets KEY,...] [--equal-load-only true] [--baseline-commit REV] [--json PATH]
#   bash bench/run.sh --soak-requests N [--soak-sample-every N] [--soak-warmup N] [--soak-mode memory|redis] [--json PATH]
#   bash bench/run.sh --open-streams N [--open-streams-seconds S] [--open-streams-chunk-seconds S] [--json PATH]
#
# --baseline-commit REV builds the gateway at git revision REV in a temporary worktree and measures it as one more
# target beside the working tree's build (passed on to the driver as --baseline PATH).
# Exit code 0 when the measurement ran (targets met or not); non-zero when it could not run or >1% errors.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
baseline_commit=""
while [[ $# -gt 0 ]]; do
  if [[ "$1" == "--baseline-commit" && $# -ge 2 ]]; then
    baseline_commit="$2"
    shift 2
  else
    args+=("$1")
    shift
  fi
done

echo "Building LlmProxy and the benchmark (Release)..."
dotnet build src/LlmProxy/LlmProxy.csproj -c Release -nologo -v q -clp:NoSummary
dotnet build bench/LlmProxy.Bench/LlmProxy.Bench.csproj -c Release -nologo -v q -clp:NoSummary

if [[ -n "$baseline_commit" ]]; then
  sha="$(git rev-parse --verify "$baseline_commit^{commit}")"
  worktree="${TMPDIR:-/tmp}/llmproxy-baseline-$sha"
  if [[ ! -d "$worktree" ]]; then
    git worktree prune
    git worktree add --detach "$worktree" "$sha" >/dev/null
  fi
  echo "Building the baseline gateway at $sha (Release)..."
  dotnet build "$worktree/src/LlmProxy/LlmProxy.csproj" -c Release -nologo -v q -clp:NoSummary
  args+=(--baseline "$worktree/src/LlmProxy/bin/Release/net10.0/LlmProxy.dll")
fi
echo

# --open-streams N holds two sockets per stream in the gateway: raise the soft open-files limit to the hard one
# (the servers inherit it; the driver checks that it is enough).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec dotnet bench/LlmProxy.Bench/bin/Release/net10.0/LlmProxy.Bench.dll run \
  --llmproxy src/LlmProxy/bin/Release/net10.0/LlmProxy.dll "${args[@]}"
