<#
.SYNOPSIS
Installs the Teams media bot on a Windows media host: checks, files, firewall, two services.

.DESCRIPTION
Checks every prerequisite first and names exactly what is wrong (Windows Server version, cores,
the Visual C++ x64 runtime, the ASP.NET Core 10 runtime, PowerShell 7 for the platform's startup
script, Node.js 20+, the media certificate in LocalMachine\My, the ports, the settings). Only
when all pass: copies host\, bot-service\, bot\ and scripts\ to InstallDir, writes the two processes'
configuration from the settings file, runs the platform's MediaPlatformStartupScript.bat, opens
the firewall (signaling TCP, media TCP, media port range TCP/UDP, all in the group
'TeamsMediaBot'), registers the services TeamsMediaHost and TeamsMediaBot (which depends on
TeamsMediaHost) with delayed automatic start and restart on failure, starts them, and records
what it created in <InstallDir>\install-manifest.json for Uninstall-TeamsMediaBot.ps1.

With -DryRun it makes every check and prints every action instead of taking it. The -Assume*
parameters and -CertificateFile stand in for facts of the machine, so the logic can run
anywhere (the repository's tests run it under PowerShell 7 on Linux).

Exit codes: 0 installed (or dry run passed), 1 a prerequisite failed, 2 bad arguments or settings.

.PARAMETER SettingsFile
A copy of config\settings.template.json with the values filled in.

.PARAMETER BundleDir
The unzipped bundle (holding host\, bot-service\, bot\); default: this script's parent folder.

.PARAMETER DryRun
Check everything, print every action, change nothing.

.PARAMETER CertificateFile
Check this certificate file (PFX/PEM) instead of looking BOT_MEDIA_CERT_THUMBPRINT up in LocalMachine\My.

.PARAMETER PreviewConfigDir
With -DryRun: write the two configuration files the install would write (bot.json,
appsettings.json) into this folder, to read them before installing.

.PARAMETER AllowFewerPhysicalCores
Install on a machine with 2+ logical but fewer than 2 physical cores (reported not to work).

.EXAMPLE
.\Install-TeamsMediaBot.ps1 -SettingsFile C:\secure\settings.json -DryRun

.EXAMPLE
.\Install-TeamsMediaBot.ps1 -SettingsFile C:\secure\settings.json
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$SettingsFile,
    [string]$BundleDir,
    [switch]$DryRun,
    [string]$CertificateFile,
    [string]$CertificatePassword = '',
    [switch]$AllowFewerPhysicalCores,
    [string]$PreviewConfigDir,
    # Fake facts of the machine (tests, or a check from another machine).
    [string]$AssumeWindowsVersion,
    [string]$AssumeWindowsCaption,
    [int]$AssumeCores = -1,
    [int]$AssumePhysicalCores = -1,
    [string]$AssumeVcRuntimeVersion,
    [string]$AssumeAspNetCoreVersions,
    [string]$AssumePwshVersion,
    [string]$AssumeNodeVersion,
    [string]$AssumeInstalledServices,
    [switch]$AssumeAdministrator
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'TeamsMediaBot.Common.ps1')

if (-not $BundleDir) { $BundleDir = Split-Path -Parent $PSScriptRoot }
try { $config = Read-TmbSettings -Path $SettingsFile }
catch { Write-Host "FAIL settings: $($_.Exception.Message)"; exit 2 }
$onWindows = Test-TmbIsWindows
$installDir = Get-TmbInstallValue $config 'InstallDir' 'C:\Program Files\TeamsMediaBot'
$dataDir = Get-TmbInstallValue $config 'DataDir' 'C:\ProgramData\TeamsMediaBot'
$portRange = Get-TmbInstallValue $config 'MediaPortRange' '49152-65535'

function Get-Fact([string]$Assumed, [scriptblock]$Query) {
    if ($Assumed) { return $Assumed }
    if (-not $onWindows) { return $null }
    return & $Query
}

function Write-Unknown([string]$Check, [string]$Parameter) {
    Write-TmbResult FAIL $Check "cannot be checked here (not Windows); pass $Parameter"
}

Write-Host "Teams media bot install$(if ($DryRun) { ' (dry run)' }): settings $SettingsFile, bundle $BundleDir"

# --- administrator ---
if ($DryRun) { Write-TmbResult SKIP administrator 'not needed for -DryRun' }
elseif ($AssumeAdministrator -or ($onWindows -and ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator))) {
    Write-TmbResult OK administrator 'elevated'
}
else { Write-TmbResult FAIL administrator 'run this from an elevated PowerShell (Run as administrator)' }

# --- Windows Server version: the platform's package targets Windows Server 2019 (10.0.17763) and later ---
$caption = Get-Fact $AssumeWindowsCaption { (Get-CimInstance Win32_OperatingSystem).Caption }
$version = Get-Fact $AssumeWindowsVersion { (Get-CimInstance Win32_OperatingSystem).Version }
if (-not $caption -or -not $version) { Write-Unknown windows '-AssumeWindowsCaption and -AssumeWindowsVersion' }
else {
    $parsedVersion = $null
    if (-not [Version]::TryParse($version, [ref]$parsedVersion)) { Write-TmbResult FAIL windows "cannot read the Windows version '$version'" }
    elseif ($caption -notmatch 'Server') {
        Write-TmbResult FAIL windows "the media platform runs on Windows Server 2019 (10.0.17763) or later; this is `"$caption`" ($version), not a Server edition"
    }
    elseif ($parsedVersion -lt [Version]'10.0.17763') {
        Write-TmbResult FAIL windows "the media platform runs on Windows Server 2019 (10.0.17763) or later; this is `"$caption`" ($version)"
    }
    else { Write-TmbResult OK windows "$caption ($version)" }
}

# --- cores: MediaPlatform.MinNumberOfCoresRequired is 2; users report 2 *physical* cores are needed ---
$cores = $AssumeCores
$physical = $AssumePhysicalCores
if ($cores -lt 0 -and $onWindows) { $cores = [int](Get-CimInstance Win32_Processor | Measure-Object -Property NumberOfLogicalProcessors -Sum).Sum }
if ($physical -lt 0 -and $onWindows) { $physical = [int](Get-CimInstance Win32_Processor | Measure-Object -Property NumberOfCores -Sum).Sum }
if ($physical -lt 0) { $physical = $cores }
if ($cores -lt 0) { Write-Unknown cores '-AssumeCores (and -AssumePhysicalCores)' }
elseif ($cores -lt 2) {
    Write-TmbResult FAIL cores "the media platform refuses machines with fewer than 2 cores (MediaPlatform.MinNumberOfCoresRequired); this one has $cores"
}
elseif ($physical -lt 2) {
    $status = if ($AllowFewerPhysicalCores) { 'WARN' } else { 'FAIL' }
    Write-TmbResult $status cores "$cores logical processors but $physical physical core: users of the platform report that it needs 2 physical cores (Azure D2_v3 fails, D4_v3 works); -AllowFewerPhysicalCores installs anyway"
}
else { Write-TmbResult OK cores "$cores logical, $physical physical" }

# --- Visual C++ x64 runtime: the platform needs the latest since 1.31 ---
$vc = Get-Fact $AssumeVcRuntimeVersion {
    $key = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64' -ErrorAction SilentlyContinue
    if ($null -ne $key -and $key.PSObject.Properties['Installed'] -and $key.Installed -eq 1) { [string]$key.Version } else { 'none' }
}
if (-not $vc) { Write-Unknown vcruntime '-AssumeVcRuntimeVersion' }
elseif ($vc -eq 'none') {
    Write-TmbResult FAIL vcruntime 'the Visual C++ x64 runtime is not installed (HKLM:\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64 Installed=1); the media platform needs the latest: https://aka.ms/vs/17/release/vc_redist.x64.exe'
}
else { Write-TmbResult OK vcruntime "Visual C++ x64 runtime $vc" }

# --- ASP.NET Core 10 runtime: the host is published framework-dependent ---
$aspnet = Get-Fact $AssumeAspNetCoreVersions {
    $key = Get-Item -Path 'HKLM:\SOFTWARE\dotnet\Setup\InstalledVersions\x64\sharedfx\Microsoft.AspNetCore.App' -ErrorAction SilentlyContinue
    if ($null -eq $key) { 'none' } else { ($key.GetValueNames() -join ',') }
}
if (-not $aspnet) { Write-Unknown dotnet '-AssumeAspNetCoreVersions' }
elseif (-not (@($aspnet -split ',') | Where-Object { $_ -match '^10\.' })) {
    Write-TmbResult FAIL dotnet "the ASP.NET Core 10 runtime (Microsoft.AspNetCore.App 10.x, x64) is not installed (found: $aspnet); the media host needs it: https://dotnet.microsoft.com/download/dotnet/10.0"
}
else { Write-TmbResult OK dotnet "Microsoft.AspNetCore.App $aspnet" }

# --- PowerShell 7: MediaPlatformStartupScript.bat runs pwsh.exe ---
$pwshVersion = Get-Fact $AssumePwshVersion {
    $cmd = Get-Command pwsh.exe -ErrorAction SilentlyContinue
    if ($null -eq $cmd) { 'none' } else { [string]$cmd.Version }
}
if (-not $pwshVersion) { Write-Unknown pwsh '-AssumePwshVersion' }
elseif ($pwshVersion -eq 'none') {
    Write-TmbResult FAIL pwsh "PowerShell 7 (pwsh.exe) is not on PATH; the platform's MediaPlatformStartupScript.bat runs it to register its performance counters: https://aka.ms/powershell"
}
else { Write-TmbResult OK pwsh "pwsh.exe $pwshVersion" }

# --- Node.js 20+ (the bot) ---
$nodePath = Get-TmbInstallValue $config 'NodePath' ''
$nodeVersion = $AssumeNodeVersion
if (-not $nodeVersion) {
    $nodeCommand = if ($nodePath) { $nodePath } else { 'node' }
    $resolved = Get-Command $nodeCommand -ErrorAction SilentlyContinue
    if ($null -ne $resolved) {
        if (-not $nodePath) { $nodePath = $resolved.Source }
        $nodeVersion = (& $resolved.Source --version | Out-String).Trim()
    }
}
if (-not $nodePath) { $nodePath = 'C:\Program Files\nodejs\node.exe' }
if (-not $nodeVersion) {
    Write-TmbResult FAIL node 'node.exe not found (NodePath setting, or PATH): install Node.js 20 LTS or later'
}
elseif ($nodeVersion -notmatch '^v?(\d+)\.' -or [int]$Matches[1] -lt 20) {
    Write-TmbResult FAIL node "Node.js 20 or later is required, found $nodeVersion ($nodePath)"
}
else { Write-TmbResult OK node "$nodeVersion ($nodePath)" }

# --- settings: what the two processes cannot start without ---
$failuresBeforeSettings = $script:TmbFailures
foreach ($s in $config.Settings.Values) {
    if ($s.Required -and $s.Value -eq '') { Write-TmbResult FAIL settings "$($s.Name) is required" }
}
$secret = Get-TmbSetting $config 'BOT_APP_SECRET'
$certKey = Get-TmbSetting $config 'BOT_APP_CERT_KEY'
$appThumb = Get-TmbSetting $config 'BOT_APP_CERT_THUMBPRINT'
if (-not $secret -and -not ($certKey -and $appThumb)) { Write-TmbResult FAIL settings 'set BOT_APP_SECRET, or BOT_APP_CERT_KEY with BOT_APP_CERT_THUMBPRINT' }
$bridgeSecret = Get-TmbSetting $config 'BOT_BRIDGE_SECRET'
if ($bridgeSecret -and $bridgeSecret.Length -lt 16) { Write-TmbResult FAIL settings 'BOT_BRIDGE_SECRET must be at least 16 characters' }
$mediaThumb = (Get-TmbSetting $config 'BOT_MEDIA_CERT_THUMBPRINT') -replace '\s', ''
if ($mediaThumb -and $mediaThumb -notmatch '^[0-9A-Fa-f]{40}$') { Write-TmbResult FAIL settings "BOT_MEDIA_CERT_THUMBPRINT must be 40 hex digits, got `"$mediaThumb`"" }
$publicIp = Get-TmbSetting $config 'BOT_MEDIA_PUBLIC_IP'
$parsedIp = $null
if ($publicIp -and -not [System.Net.IPAddress]::TryParse($publicIp, [ref]$parsedIp)) { Write-TmbResult FAIL settings "BOT_MEDIA_PUBLIC_IP must be an IP address, got `"$publicIp`"" }
$ports = @{}
foreach ($name in 'BOT_PORT', 'BOT_OPS_PORT', 'BOT_MEDIA_INTERNAL_PORT', 'BOT_MEDIA_PUBLIC_PORT') {
    $raw = Get-TmbSetting $config $name
    $n = 0
    if (-not [int]::TryParse($raw, [ref]$n) -or $n -lt 1 -or $n -gt 65535) { Write-TmbResult FAIL settings "$name must be a port from 1 to 65535, got `"$raw`"" }
    $ports[$name] = $n
}
if ($portRange -notmatch '^(\d+)-(\d+)$' -or [int]$Matches[1] -gt [int]$Matches[2] -or [int]$Matches[2] -gt 65535) {
    Write-TmbResult FAIL settings "MediaPortRange must be <low>-<high>, got `"$portRange`""
}
try { $bridge = Get-TmbBridgeEndpoint $config }
catch { Write-TmbResult FAIL settings "BOT_BRIDGE_URL is not a URL: $(Get-TmbSetting $config 'BOT_BRIDGE_URL')"; $bridge = $null }
$fqdn = Get-TmbSetting $config 'BOT_MEDIA_FQDN'
if ($script:TmbFailures -eq $failuresBeforeSettings) { Write-TmbResult OK settings "$($config.Settings.Count) settings read from $SettingsFile" }

# --- the media certificate ---
if ($mediaThumb -and $fqdn) {
    $null = Test-TmbCertificate -Thumbprint $mediaThumb -Fqdn $fqdn -CertificateFile $CertificateFile -CertificatePassword $CertificatePassword
}
else { Write-TmbResult FAIL certificate 'needs BOT_MEDIA_CERT_THUMBPRINT and BOT_MEDIA_FQDN' }

# --- services already there: a second install over a running one would fail half-way ---
$existing = Get-Fact $AssumeInstalledServices {
    $found = @(Get-Service -Name $script:TmbHostService, $script:TmbBotService -ErrorAction SilentlyContinue | ForEach-Object { $_.Name })
    if ($found.Count -eq 0) { 'none' } else { $found -join ',' }
}
if (-not $existing) { Write-Unknown services '-AssumeInstalledServices (none, or the names)' }
elseif ($existing -ne 'none') {
    Write-TmbResult FAIL services "already installed: $existing; run Uninstall-TeamsMediaBot.ps1 -KeepConfig first"
}
else { Write-TmbResult OK services "$($script:TmbHostService) and $($script:TmbBotService) not installed yet" }

# --- ports free (after the services check: our own running services hold them) ---
$portChecks = @(
    @{ Name = 'BOT_PORT'; What = 'signaling'; Address = (Get-TmbSetting $config 'BOT_HOST'); Port = $ports['BOT_PORT'] },
    @{ Name = 'BOT_OPS_PORT'; What = 'operations'; Address = (Get-TmbSetting $config 'BOT_OPS_HOST'); Port = $ports['BOT_OPS_PORT'] },
    @{ Name = 'BOT_MEDIA_INTERNAL_PORT'; What = 'media, InstanceInternalPort'; Address = '0.0.0.0'; Port = $ports['BOT_MEDIA_INTERNAL_PORT'] }
)
if ($null -ne $bridge) { $portChecks += @{ Name = 'BOT_BRIDGE_URL'; What = 'bridge'; Address = $bridge.Host; Port = $bridge.Port } }
foreach ($p in $portChecks) {
    if ($p.Port -lt 1) { continue }
    $address = $p.Address
    if ($address -eq 'localhost') { $address = '127.0.0.1' }
    if (Test-TmbPortFree -Address $address -Port $p.Port) { Write-TmbResult OK port "TCP $($p.Port) ($($p.Name), $($p.What)) is free" }
    else { Write-TmbResult FAIL port "TCP $($p.Port) ($($p.Name), $($p.What)) on $address is in use$(Get-TmbPortOwner $p.Port)" }
}

# --- the bundle itself ---
$bundleFiles = @('host\TeamsMediaBridge.Host.exe', 'host\Microsoft.Skype.Bots.Media.dll', 'host\MediaPlatformStartupScript.bat',
    'bot-service\TeamsMediaBot.Service.exe', 'bot\node_modules\teams-media-bot\dist\bot.js')
$missing = @($bundleFiles | Where-Object { -not (Test-Path -LiteralPath (Join-Path $BundleDir ($_ -replace '\\', [IO.Path]::DirectorySeparatorChar))) })
if ($missing.Count -gt 0) { Write-TmbResult FAIL bundle "missing in $BundleDir`: $($missing -join ', ')" }
else { Write-TmbResult OK bundle "$BundleDir has the host, the bot service and the bot" }

if ($script:TmbFailures -gt 0) {
    Write-Host "not installing: $($script:TmbFailures) check(s) failed"
    exit 1
}

# --- the plan ---
$hostDir = Join-TmbWinPath $installDir 'host'
$botServiceDir = Join-TmbWinPath $installDir 'bot-service'
$botDir = Join-TmbWinPath $installDir 'bot'
$configDir = Join-TmbWinPath $dataDir 'config'
# Not Get-TmbSetting: the process's default, 'recordings', would be under System32 for a service.
$recordingsDir = $config.Settings['BOT_RECORDINGS_DIR'].Value
$createdDirs = @($installDir, $dataDir, $configDir)
if (-not $recordingsDir) {
    $recordingsDir = Join-TmbWinPath $dataDir 'recordings'
    $createdDirs += $recordingsDir
}
$botConfigFile = Join-TmbWinPath $configDir 'bot.json'
$hostConfigFile = Join-TmbWinPath $hostDir 'appsettings.json'
$settingsCopy = Join-TmbWinPath $configDir 'settings.json'
$manifestFile = Join-TmbWinPath $installDir $script:TmbManifestName

# Each process gets the settings marked for it, only those set (the rest take their defaults).
$botValues = [ordered]@{}
$hostValues = [ordered]@{}
foreach ($s in $config.Settings.Values) {
    if ($s.Name -eq 'BOT_CONFIG_FILE') { continue }
    if ($s.Value -eq '') { continue }
    if ($s.For -contains 'bot') { $botValues[$s.Name] = $s.Value }
    if ($s.For -contains 'host') { $hostValues[$s.Name] = $s.Value }
}
$botValues['BOT_RECORDINGS_DIR'] = $recordingsDir
$botJson = $botValues | ConvertTo-Json -Depth 5
$hostJson = $hostValues | ConvertTo-Json -Depth 5

$low, $high = $portRange -split '-'
$firewallRules = @(
    [pscustomobject]@{ Name = "TeamsMediaBot signaling TCP $($ports['BOT_PORT'])"; Protocol = 'TCP'; Ports = [string]$ports['BOT_PORT'] },
    [pscustomobject]@{ Name = "TeamsMediaBot media TCP $($ports['BOT_MEDIA_INTERNAL_PORT'])"; Protocol = 'TCP'; Ports = [string]$ports['BOT_MEDIA_INTERNAL_PORT'] },
    [pscustomobject]@{ Name = "TeamsMediaBot media range TCP $low-$high"; Protocol = 'TCP'; Ports = "$low-$high" },
    [pscustomobject]@{ Name = "TeamsMediaBot media range UDP $low-$high"; Protocol = 'UDP'; Ports = "$low-$high" }
)
$hostExe = Join-TmbWinPath $hostDir 'TeamsMediaBridge.Host.exe'
$botServiceExe = Join-TmbWinPath $botServiceDir 'TeamsMediaBot.Service.exe'
$botScript = Join-TmbWinPath $botDir 'node_modules\teams-media-bot\dist\bot.js'
# What the bot service needs to start node: TeamsMediaBot.Service's settings (BotService__<Name>,
# see its --help); it passes ConfigFile to the bot as BOT_CONFIG_FILE.
$botEnvironment = @("BotService__ConfigFile=$botConfigFile", "BotService__NodePath=$nodePath", "BotService__ScriptPath=$botScript")
# Restart after 5 s, 5 s, then 30 s; the failure count resets after a day without one.
$failureActions = @('reset=', '86400', 'actions=', 'restart/5000/restart/5000/restart/30000')

$hostService = $script:TmbHostService
$botService = $script:TmbBotService
$group = $script:TmbFirewallGroup
$actions = @()
foreach ($dir in $createdDirs) {
    $actions += New-TmbAction mkdir $dir 'create' @{ Path = $dir } { param($d) New-Item -ItemType Directory -Force -Path $d.Path | Out-Null }
}
# scripts\ too: Test- and Uninstall-TeamsMediaBot.ps1 stay at hand once the zip is gone.
foreach ($part in 'host', 'bot-service', 'bot', 'scripts') {
    $actions += New-TmbAction copy (Join-TmbWinPath $installDir $part) "from $(Join-Path $BundleDir $part)" @{ From = (Join-Path $BundleDir $part); To = (Join-TmbWinPath $installDir $part) } {
        param($d)
        New-Item -ItemType Directory -Force -Path $d.To | Out-Null
        Copy-Item -Path (Join-Path $d.From '*') -Destination $d.To -Recurse -Force
    }
}
$actions += New-TmbAction write $hostConfigFile ('host settings: ' + ($hostValues.Keys -join ', ')) @{ Path = $hostConfigFile; Text = $hostJson } {
    param($d) Write-TmbUtf8File -Path $d.Path -Text $d.Text
}
$actions += New-TmbAction write $botConfigFile ('bot settings: ' + ($botValues.Keys -join ', ')) @{ Path = $botConfigFile; Text = $botJson } {
    param($d) Write-TmbUtf8File -Path $d.Path -Text $d.Text
}
$actions += New-TmbAction write $settingsCopy "copy of $SettingsFile (read by Test-TeamsMediaBot.ps1)" @{ From = $SettingsFile; To = $settingsCopy } {
    param($d) Copy-Item -LiteralPath $d.From -Destination $d.To -Force
}
foreach ($secretPath in $configDir, $hostConfigFile) {
    # SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) by SID: the names are localized.
    $actions += New-TmbAction acl $secretPath 'SYSTEM and Administrators only (holds secrets)' @{ Path = $secretPath } {
        param($d) Invoke-TmbNative icacls.exe @($d.Path, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F')
    }
}
$actions += New-TmbAction run (Join-TmbWinPath $hostDir 'MediaPlatformStartupScript.bat') "in $hostDir (registers the platform's performance counters)" @{ Dir = $hostDir } {
    # The script uses relative paths: it must run in the host's folder.
    param($d) Invoke-TmbNative cmd.exe @('/c', 'MediaPlatformStartupScript.bat') -WorkingDirectory $d.Dir
}
foreach ($rule in $firewallRules) {
    $actions += New-TmbAction firewall $rule.Name "inbound $($rule.Protocol) $($rule.Ports) allow, group $group" @{ Rule = $rule; Group = $group } {
        param($d) New-NetFirewallRule -DisplayName $d.Rule.Name -Group $d.Group -Direction Inbound -Protocol $d.Rule.Protocol -LocalPort ($d.Rule.Ports -split ',') -Action Allow | Out-Null
    }
}
$actions += New-TmbAction service $hostService "create `"$hostExe`" start=delayed-auto" @{ Name = $hostService; Exe = $hostExe } {
    # New-Service writes the quoted path as given (sc.exe create would get its quotes mangled by 5.1).
    param($d)
    New-Service -Name $d.Name -BinaryPathName "`"$($d.Exe)`"" -DisplayName 'Teams media host' -StartupType Automatic | Out-Null
    Invoke-TmbNative sc.exe @('config', $d.Name, 'start=', 'delayed-auto')
}
$actions += New-TmbAction service $hostService ('failure ' + ($failureActions -join ' ') + ', failureflag 1') @{ Name = $hostService; Actions = $failureActions } {
    param($d)
    Invoke-TmbNative sc.exe (@('failure', $d.Name) + $d.Actions)
    Invoke-TmbNative sc.exe @('failureflag', $d.Name, '1')
}
$actions += New-TmbAction service $botService "create `"$botServiceExe`" start=delayed-auto depend=$hostService" @{ Name = $botService; Exe = $botServiceExe; DependsOn = $hostService } {
    param($d)
    New-Service -Name $d.Name -BinaryPathName "`"$($d.Exe)`"" -DisplayName 'Teams media bot' -StartupType Automatic -DependsOn $d.DependsOn | Out-Null
    Invoke-TmbNative sc.exe @('config', $d.Name, 'start=', 'delayed-auto')
}
$actions += New-TmbAction service $botService ('environment ' + ($botEnvironment -join '; ')) @{ Name = $botService; Environment = $botEnvironment } {
    param($d) New-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$($d.Name)" -Name Environment -PropertyType MultiString -Value $d.Environment -Force | Out-Null
}
$actions += New-TmbAction service $botService ('failure ' + ($failureActions -join ' ') + ', failureflag 1') @{ Name = $botService; Actions = $failureActions } {
    param($d)
    Invoke-TmbNative sc.exe (@('failure', $d.Name) + $d.Actions)
    Invoke-TmbNative sc.exe @('failureflag', $d.Name, '1')
}

$manifest = [ordered]@{
    version       = 1
    installDir    = $installDir
    dataDir       = $dataDir
    services      = @($botService, $hostService)
    firewallGroup = $group
    firewallRules = @($firewallRules | ForEach-Object { $_.Name })
    directories   = $createdDirs
    files         = @($hostConfigFile, $botConfigFile, $settingsCopy, $manifestFile)
}
$manifestJson = $manifest | ConvertTo-Json -Depth 5 -Compress
$actions += New-TmbAction write $manifestFile 'install manifest (read by Uninstall-TeamsMediaBot.ps1)' @{ Path = $manifestFile; Text = $manifestJson } {
    param($d) Write-TmbUtf8File -Path $d.Path -Text $d.Text
}
$actions += New-TmbAction start $hostService 'Start-Service' @{ Name = $hostService } { param($d) Start-Service -Name $d.Name }
$actions += New-TmbAction start $botService 'Start-Service' @{ Name = $botService } { param($d) Start-Service -Name $d.Name }

Invoke-TmbActions -Actions $actions -DryRun:$DryRun
if ($DryRun -and $PreviewConfigDir) {
    New-Item -ItemType Directory -Force -Path $PreviewConfigDir | Out-Null
    Write-TmbUtf8File -Path (Join-Path $PreviewConfigDir 'bot.json') -Text $botJson
    Write-TmbUtf8File -Path (Join-Path $PreviewConfigDir 'appsettings.json') -Text $hostJson
    Write-Host "preview: bot.json and appsettings.json written to $PreviewConfigDir"
}
Write-Host "MANIFEST $manifestJson"
if ($DryRun) { Write-Host "dry run: all checks passed, $($actions.Count) actions planned, nothing changed" }
else { Write-Host "installed: check it with Test-TeamsMediaBot.ps1" }
exit 0
