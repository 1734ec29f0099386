#!/usr/bin/env bash
# Checks a win-x64 publish of the media host with the Skype platform linked (publish-windows.sh
# makes one): every file of windows-publish-files.txt is there and not empty, .dll/.exe files
# are PE images (native ones for x64), and the host's deps.json links the adapter for win-x64.
# Prints each problem and exits 1 if there is any.
#
#   native-bridge/check-windows-publish.sh <publishDir>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: check-windows-publish.sh <publishDir>}"
list="$here/windows-publish-files.txt"
problems=0
problem() { echo "check-windows-publish: $*" >&2; problems=$((problems + 1)); }

if [[ ! -d "$dir" ]]; then
  echo "check-windows-publish: $dir is not a directory" >&2
  exit 1
fi

# The PE header's machine field: 8664 for x64 ("" when the file is not a PE image).
pe_machine() {
  local file="$1" magic offset
  magic="$(od -An -tx1 -N2 "$file" | tr -d ' \n')"
  [[ "$magic" == "4d5a" ]] || return 0
  offset=$((16#$(od -An -tx4 -j60 -N4 "$file" | tr -d ' \n')))
  [[ "$(od -An -tx1 -j"$offset" -N4 "$file" | tr -d ' \n')" == "50450000" ]] || return 0
  od -An -tx2 -j$((offset + 4)) -N2 "$file" | tr -d ' \n'
}

checked=0
while read -r kind name; do
  [[ -z "$kind" || "$kind" == \#* ]] && continue
  checked=$((checked + 1))
  file="$dir/$name"
  if [[ ! -f "$file" ]]; then problem "missing $name ($kind)"; continue; fi
  if [[ ! -s "$file" ]]; then problem "empty $name"; continue; fi
  case "$kind" in
    native)
      machine="$(pe_machine "$file")"
      [[ "$machine" == "8664" ]] || problem "$name is not a Windows x64 image (PE machine '${machine:-none}')" ;;
    managed)
      [[ -n "$(pe_machine "$file")" ]] || problem "$name is not a PE image" ;;
    file) ;;
    *) problem "windows-publish-files.txt: unknown kind '$kind' for $name" ;;
  esac
done <"$list"

deps="$dir/TeamsMediaBridge.Host.deps.json"
if [[ -f "$deps" ]]; then
  grep -q '"name": ".NETCoreApp,Version=v10.0/win-x64"' "$deps" || problem "TeamsMediaBridge.Host.deps.json is not for win-x64"
  grep -q '"TeamsMediaBridge.Platform.Skype": "' "$deps" || problem "TeamsMediaBridge.Host.deps.json does not link TeamsMediaBridge.Platform.Skype (published without -p:SkypePlatform=true?)"
fi

if [[ "$problems" -gt 0 ]]; then
  echo "check-windows-publish: $problems problem(s) in $dir" >&2
  exit 1
fi
echo "check-windows-publish: $checked files present in $dir ($(du -sh "$dir" | cut -f1), $(find "$dir" -type f | wc -l) files)"
