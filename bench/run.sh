#!/usr/bin/env bash
# LlmProxy end-to-end benchmark, one command: builds LlmProxy and the benchmark in Release, then runs
# the fake upstream, a bare YARP proxy and two LlmProxy processes (metering on and metering off) as separate
# processes on loopback and prints the tables.
#
#   bash bench/run.sh [--seconds S] [--warmup S] [--rounds N] [--concurrency C]
#                     [--stream-samples N] [--stream-warmup N] [--json PATH]
#
# Defaults: 5 interleaved rounds x 5 s per target (1 s warm-up), 32 workers, 2000 streamed samples per target.
# Exit code 0 when the measurement ran (targets met or not); non-zero when it could not run or >1% errors.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "Building LlmProxy and the benchmark (Release)..."
dotnet build src/LlmProxy/LlmProxy.csproj -c Release -nologo -v q -clp:NoSummary
dotnet build bench/LlmProxy.Bench/LlmProxy.Bench.csproj -c Release -nologo -v q -clp:NoSummary
echo

exec dotnet bench/LlmProxy.Bench/bin/Release/net10.0/LlmProxy.Bench.dll run \
  --llmproxy src/LlmProxy/bin/Release/net10.0/LlmProxy.dll "$@"
