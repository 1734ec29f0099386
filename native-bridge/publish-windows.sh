#!/usr/bin/env bash
# Publishes the media host for Windows x64 with the real media platform linked
# (-p:SkypePlatform=true, framework-dependent: the machine needs the .NET 10 and ASP.NET Core 10
# runtimes), on any build machine, then checks the output (check-windows-publish.sh).
#
#   native-bridge/publish-windows.sh [outDir]     default native-bridge/artifacts/win-x64/host
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/artifacts/win-x64/host}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# A fresh folder: a file left from an earlier publish must not make the check pass.
rm -rf "$out"
dotnet publish "$here/src/TeamsMediaBridge.Host" -c Release -r win-x64 -p:SkypePlatform=true \
  -o "$out" -nologo -v quiet
"$here/check-windows-publish.sh" "$out"
