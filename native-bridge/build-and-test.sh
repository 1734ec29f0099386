#!/usr/bin/env bash
# Restores, builds and tests the .NET media host, publishes it for Windows x64 with the real media
# platform linked and checks that publish, then prints one summary line
# ("native-bridge: N passed, N failed, N skipped", the tests of both test projects). Exits
# non-zero when a step fails, a test fails or no test ran; a failed step is named in a line
# "native-bridge: step failed: <step>".
#
# Builds TeamsMediaBridge.Windows.slnx: everything, the Microsoft.Skype.Bots.Media adapter (a
# Windows x64 library, built here with every warning as an error) and its tests included.
# Steps: restore, build, publish-windows (publish-windows.sh into artifacts/win-x64/host, its
# output check, and a check that the checker notices a missing file), test.
#
#   native-bridge/build-and-test.sh            Debug build
#   CONFIGURATION=Release native-bridge/build-and-test.sh
#   SKIP_WINDOWS_PUBLISH=1 native-bridge/build-and-test.sh    (no publish: a quicker local run)
#   native-bridge/build-and-test.sh --filter "FullyQualifiedName~Golden"   (extra args go to dotnet test)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
config="${CONFIGURATION:-Debug}"
solution="TeamsMediaBridge.Windows.slnx"
results="TestResults"
rm -rf "$results" tests/*/TestResults
failed_steps=()

# Runs one step, timed; a failure is remembered by name (and said at once).
step() {
  local name="$1" start=$SECONDS
  shift
  echo "native-bridge: step $name"
  if "$@"; then
    echo "native-bridge: step $name done in $((SECONDS - start)) s"
  else
    echo "native-bridge: step failed: $name (exit $?, after $((SECONDS - start)) s)" >&2
    failed_steps+=("$name")
    return 1
  fi
}

# The checker must fail on an output that lacks a file it requires (a hard-linked copy).
publish_windows() {
  local out="artifacts/win-x64/host" copy="artifacts/win-x64/check-self-test"
  ./publish-windows.sh "$out" || return 1
  rm -rf "$copy"
  cp -al "$out" "$copy"
  rm "$copy/Microsoft.Skype.Bots.Media.dll"
  if ./check-windows-publish.sh "$copy" >/dev/null 2>&1; then
    rm -rf "$copy"
    echo "check-windows-publish.sh passed an output without Microsoft.Skype.Bots.Media.dll" >&2
    return 1
  fi
  rm -rf "$copy"
}

# NuGet packages come from the machine's configured source(s); nothing is hardcoded here.
# Without restore and build nothing else can run.
step restore dotnet restore "$solution" || exit 1
step build dotnet build "$solution" --no-restore -c "$config" -nologo -v quiet || exit 1
if [[ -z "${SKIP_WINDOWS_PUBLISH:-}" ]]; then
  step publish-windows publish_windows || true
fi

# One test project at a time, each with its own results file (two projects run by one
# `dotnet test` of the solution could name theirs alike).
run_tests() {
  local project status=0
  for project in tests/*/*.Tests.csproj; do
    dotnet test "$project" --no-build -c "$config" \
      --logger "trx;LogFileName=$(basename "$project" .csproj).trx" --logger "console;verbosity=normal" \
      --results-directory "$results" "$@" || status=1
  done
  return "$status"
}
set +e
step test run_tests "$@"
status=$?
set -e

shopt -s nullglob
trx_files=("$results"/*.trx)
if [[ ${#trx_files[@]} -eq 0 ]]; then
  echo "native-bridge: no test results were written (dotnet test exited $status)" >&2
  exit 1
fi
# One results file per test project: add their counters up.
passed=0 failed=0 skipped=0
for trx in "${trx_files[@]}"; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  count() { local n; n="$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters")"; echo "${n:-0}"; }
  passed=$((passed + $(count passed)))
  failed=$((failed + $(count failed)))
  skipped=$((skipped + $(count notExecuted)))
done
if [[ ${#failed_steps[@]} -gt 0 ]]; then
  echo "native-bridge: step failed: ${failed_steps[*]}" >&2
fi
echo "native-bridge: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ "$passed" -eq 0 ]]; then
  echo "native-bridge: no test passed" >&2
  exit 1
fi
if [[ ${#failed_steps[@]} -gt 0 ]]; then exit 1; fi
exit "$status"
