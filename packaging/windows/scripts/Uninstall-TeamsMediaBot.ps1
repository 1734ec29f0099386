<#
.SYNOPSIS
Removes what Install-TeamsMediaBot.ps1 created: both services, the firewall rules, the files.

.DESCRIPTION
Reads <InstallDir>\install-manifest.json (written by the installer) and removes, in order: the
services TeamsMediaBot then TeamsMediaHost (stopped first), every firewall rule of the manifest
and any rule left in the group 'TeamsMediaBot', the platform's performance counters, then the
files and folders (InstallDir; DataDir's config unless -KeepConfig, its recordings unless
-KeepRecordings). Without a manifest it falls back to the fixed names and default folders.
Idempotent: what is already gone is skipped, a second run removes nothing and exits 0.

With -DryRun it prints every action instead of taking it.

.PARAMETER InstallDir
Where the bundle was installed; default C:\Program Files\TeamsMediaBot.

.PARAMETER DataDir
Configuration and recordings; default the manifest's, else C:\ProgramData\TeamsMediaBot.

.PARAMETER KeepConfig
Keep <DataDir>\config (the settings and the bot's configuration) for a later install.

.PARAMETER KeepRecordings
Keep <DataDir>\recordings.

.EXAMPLE
.\Uninstall-TeamsMediaBot.ps1 -KeepConfig
#>
[CmdletBinding()]
param(
    [string]$InstallDir = 'C:\Program Files\TeamsMediaBot',
    [string]$DataDir,
    [switch]$KeepConfig,
    [switch]$KeepRecordings,
    [switch]$DryRun
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'TeamsMediaBot.Common.ps1')

$onWindows = Test-TmbIsWindows

# Paths in the manifest are Windows paths; a dry run off Windows looks them up with '/'.
function Test-LocalPath([string]$Path) { return Test-Path -LiteralPath ($Path -replace '\\', [IO.Path]::DirectorySeparatorChar) }

$manifestPath = Join-TmbWinPath $InstallDir $script:TmbManifestName
$manifest = $null
if (Test-LocalPath $manifestPath) {
    $manifest = Get-Content -LiteralPath ($manifestPath -replace '\\', [IO.Path]::DirectorySeparatorChar) -Raw | ConvertFrom-Json
    Write-Host "uninstalling what $manifestPath lists$(if ($DryRun) { ' (dry run)' })"
}
else { Write-Host "no $manifestPath`: removing the fixed names and default folders$(if ($DryRun) { ' (dry run)' })" }

if (-not $DataDir) { $DataDir = if ($null -ne $manifest) { $manifest.dataDir } else { 'C:\ProgramData\TeamsMediaBot' } }
$services = if ($null -ne $manifest) { @($manifest.services) } else { @($script:TmbBotService, $script:TmbHostService) }
$rules = if ($null -ne $manifest) { @($manifest.firewallRules) } else { @() }
$group = if ($null -ne $manifest) { $manifest.firewallGroup } else { $script:TmbFirewallGroup }

$actions = @()
# The bot first: it depends on the host.
foreach ($name in $services) {
    $exists = $true
    if ($onWindows) { $exists = $null -ne (Get-Service -Name $name -ErrorAction SilentlyContinue) }
    if (-not $exists) { Write-Host "gone  service $name"; continue }
    $actions += New-TmbAction service $name 'stop and delete' @{ Name = $name } {
        param($d)
        Stop-Service -Name $d.Name -Force -ErrorAction SilentlyContinue
        Invoke-TmbNative sc.exe @('delete', $d.Name)
    }
}
foreach ($rule in $rules) {
    $exists = $true
    if ($onWindows) { $exists = $null -ne (Get-NetFirewallRule -DisplayName $rule -ErrorAction SilentlyContinue) }
    if (-not $exists) { Write-Host "gone  firewall $rule"; continue }
    $actions += New-TmbAction firewall $rule 'remove' @{ Name = $rule } { param($d) Remove-NetFirewallRule -DisplayName $d.Name }
}
# Rules added to the group by hand or by an install whose manifest was lost.
$leftInGroup = $true
if ($onWindows) { $leftInGroup = $null -ne (Get-NetFirewallRule -Group $group -ErrorAction SilentlyContinue | Where-Object { $rules -notcontains $_.DisplayName }) }
if ($leftInGroup) { $actions += New-TmbAction firewall "group $group" 'remove any rule left in the group' @{ Group = $group } {
    param($d) Get-NetFirewallRule -Group $d.Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule
} }
$hostDir = Join-TmbWinPath $InstallDir 'host'
if (Test-LocalPath (Join-TmbWinPath $hostDir 'MediaPerf.dll')) {
    # Registered by MediaPlatformStartupScript.bat: unregistered while the DLLs are still there.
    $actions += New-TmbAction run 'performance counters' "unregister MediaPerf.dll and the MPServiceImp counters in $hostDir" @{ Dir = $hostDir } {
        param($d)
        Invoke-TmbNative regsvr32.exe @('/u', '/s', 'MediaPerf.dll') -WorkingDirectory $d.Dir
        Invoke-TmbNative pwsh.exe @('-NoProfile', '-Command', 'Import-Module .\MPServiceImp.dll; Remove-MPServicePerformanceCounters') -WorkingDirectory $d.Dir
    }
}
$removeDirs = @($InstallDir)
$configDir = Join-TmbWinPath $DataDir 'config'
$recordingsDir = Join-TmbWinPath $DataDir 'recordings'
if (-not $KeepConfig) { $removeDirs += $configDir } else { Write-Host "keep  $configDir (-KeepConfig)" }
if (-not $KeepRecordings) { $removeDirs += $recordingsDir } else { Write-Host "keep  $recordingsDir (-KeepRecordings)" }
foreach ($dir in $removeDirs) {
    if (-not (Test-LocalPath $dir)) { Write-Host "gone  folder $dir"; continue }
    $actions += New-TmbAction remove $dir 'delete the folder and everything in it' @{ Path = $dir } {
        param($d) Remove-Item -LiteralPath ($d.Path -replace '\\', [IO.Path]::DirectorySeparatorChar) -Recurse -Force
    }
}
if (Test-LocalPath $DataDir) {
    $actions += New-TmbAction remove $DataDir 'delete if empty' @{ Path = $DataDir } {
        param($d)
        $local = $d.Path -replace '\\', [IO.Path]::DirectorySeparatorChar
        if ((Test-Path -LiteralPath $local) -and -not (Get-ChildItem -LiteralPath $local -Force)) { Remove-Item -LiteralPath $local -Force }
    }
}

Invoke-TmbActions -Actions $actions -DryRun:$DryRun
Write-Host "$(if ($DryRun) { 'dry run: ' })$($actions.Count) actions$(if (-not $DryRun) { ' done' })"
exit 0
