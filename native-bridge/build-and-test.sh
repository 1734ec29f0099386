#!/usr/bin/env bash
# Restores, builds and tests the .NET media host, then prints one summary line
# ("native-bridge: N passed, N failed, N skipped"). Exits non-zero when anything fails or no
# test ran. Builds the portable solution: the Windows-only Microsoft.Skype.Bots.Media adapter
# is in TeamsMediaBridge.Windows.slnx (see README.md).
#
#   native-bridge/build-and-test.sh            Debug build
#   CONFIGURATION=Release native-bridge/build-and-test.sh
#   native-bridge/build-and-test.sh --filter "FullyQualifiedName~Golden"   (extra args go to dotnet test)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
config="${CONFIGURATION:-Debug}"
results="tests/TeamsMediaBridge.Tests/TestResults"
rm -rf "$results"

# NuGet packages come from the machine's configured source(s); nothing is hardcoded here.
dotnet restore TeamsMediaBridge.slnx
dotnet build TeamsMediaBridge.slnx --no-restore -c "$config" -nologo -v quiet

set +e
dotnet test TeamsMediaBridge.slnx --no-build -c "$config" \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@"
status=$?
set -e

trx="$results/results.trx"
if [[ ! -f "$trx" ]]; then
  echo "native-bridge: no test results were written (dotnet test exited $status)" >&2
  exit 1
fi
counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
passed="$(count passed)"
failed="$(count failed)"
skipped="$(count notExecuted)"
echo "native-bridge: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [[ "${passed:-0}" -eq 0 ]]; then
  echo "native-bridge: no test passed" >&2
  exit 1
fi
exit "$status"
