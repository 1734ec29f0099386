<#
.SYNOPSIS
Health check of an installed Teams media bot: services, readiness, bridge, certificate, media port.

.DESCRIPTION
Reports, one line each (OK, WARN or FAIL):
- the state of the services TeamsMediaHost and TeamsMediaBot;
- the bot's GET /readyz on its operational listener (BOT_OPS_HOST:BOT_OPS_PORT): status and reasons;
- the bridge connection between the two (from /readyz: any media_host_* reason means it is not
  up) and whether the host's bridge port accepts connections;
- the media certificate's expiry (WARN under 30 days, FAIL when expired);
- whether the media port (BOT_MEDIA_INTERNAL_PORT) accepts connections.
Exits 1 when any line is FAIL, else 0. It changes nothing; -DryRun is accepted for symmetry with
the other scripts and changes nothing either.

.PARAMETER SettingsFile
The settings used at install; default <DataDir>\config\settings.json (C:\ProgramData\TeamsMediaBot).

.PARAMETER CertificateFile
Check this certificate file instead of LocalMachine\My.

.PARAMETER AssumeServiceStates
Fake service states, e.g. 'TeamsMediaHost=Running,TeamsMediaBot=Stopped' (tests, or off Windows).

.EXAMPLE
.\Test-TeamsMediaBot.ps1
#>
[CmdletBinding()]
param(
    [string]$SettingsFile = 'C:\ProgramData\TeamsMediaBot\config\settings.json',
    [switch]$DryRun,
    [string]$CertificateFile,
    [string]$CertificatePassword = '',
    [string]$AssumeServiceStates,
    [int]$TimeoutSeconds = 5
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'TeamsMediaBot.Common.ps1')

try { $config = Read-TmbSettings -Path $SettingsFile }
catch { Write-Host "FAIL settings: $($_.Exception.Message)"; exit 2 }
Write-Host "Teams media bot health$(if ($DryRun) { ' (dry run: this check changes nothing anyway)' }): settings $SettingsFile"

# --- services ---
$states = @{}
if ($AssumeServiceStates) {
    foreach ($pair in $AssumeServiceStates -split ',') {
        $name, $state = $pair -split '=', 2
        $states[$name.Trim()] = $state.Trim()
    }
}
foreach ($name in $script:TmbHostService, $script:TmbBotService) {
    $state = $null
    if ($states.ContainsKey($name)) { $state = $states[$name] }
    elseif (Test-TmbIsWindows) {
        $service = Get-Service -Name $name -ErrorAction SilentlyContinue
        $state = if ($null -eq $service) { 'NotInstalled' } else { [string]$service.Status }
    }
    if ($null -eq $state) { Write-TmbResult FAIL "service $name" 'cannot be checked here (not Windows); pass -AssumeServiceStates' }
    elseif ($state -eq 'Running') { Write-TmbResult OK "service $name" 'Running' }
    else { Write-TmbResult FAIL "service $name" $state }
}

# --- the bot's readiness ---
$opsHost = Get-TmbSetting $config 'BOT_OPS_HOST'
if ($opsHost -eq '0.0.0.0' -or $opsHost -eq '::') { $opsHost = '127.0.0.1' }
$readyUrl = 'http://{0}:{1}/readyz' -f $opsHost, (Get-TmbSetting $config 'BOT_OPS_PORT')
$reasons = $null
try {
    $request = [System.Net.HttpWebRequest]::Create($readyUrl)
    $request.Timeout = $TimeoutSeconds * 1000
    $status = 0
    try { $response = $request.GetResponse() }
    catch [System.Net.WebException] {
        if ($null -eq $_.Exception.Response) { throw }
        $response = $_.Exception.Response
    }
    try {
        $status = [int]$response.StatusCode
        $reader = New-Object System.IO.StreamReader -ArgumentList $response.GetResponseStream()
        $body = $reader.ReadToEnd() | ConvertFrom-Json
    }
    finally { $response.Close() }
    $reasons = @()
    if ($body.PSObject.Properties['reasons']) { $reasons = @($body.reasons) }
    if ($status -eq 200) { Write-TmbResult OK readyz "$readyUrl 200 $($body.status)" }
    else {
        $why = ($reasons | ForEach-Object { if ($_.PSObject.Properties['detail']) { "$($_.reason) ($($_.detail))" } else { $_.reason } }) -join '; '
        Write-TmbResult FAIL readyz "$readyUrl $status $($body.status): $why"
    }
}
catch {
    $e = $_.Exception
    while ($null -ne $e.InnerException) { $e = $e.InnerException }
    Write-TmbResult FAIL readyz "$readyUrl did not answer: $($e.Message)"
}

# --- the bridge between the bot and the host ---
$bridge = Get-TmbBridgeEndpoint $config
if ($null -eq $reasons) { Write-TmbResult FAIL bridge 'unknown: /readyz did not answer' }
else {
    $bridgeReasons = @($reasons | Where-Object { $_.reason -like 'media_host_*' })
    if ($bridgeReasons.Count -gt 0) { Write-TmbResult FAIL bridge ('not usable: ' + (($bridgeReasons | ForEach-Object { $_.reason }) -join ', ')) }
    else { Write-TmbResult OK bridge 'connected (no media_host_* reason in /readyz)' }
}
if (Test-TmbPortListening -Address $bridge.Host -Port $bridge.Port) { Write-TmbResult OK 'bridge port' "TCP $($bridge.Port) is listening (the media host)" }
else { Write-TmbResult FAIL 'bridge port' "nothing listens on $($bridge.Host):$($bridge.Port) (BOT_BRIDGE_URL): is TeamsMediaHost running?" }

# --- the media certificate ---
$thumb = (Get-TmbSetting $config 'BOT_MEDIA_CERT_THUMBPRINT') -replace '\s', ''
$fqdn = Get-TmbSetting $config 'BOT_MEDIA_FQDN'
if ($thumb) { $null = Test-TmbCertificate -Thumbprint $thumb -Fqdn $fqdn -CertificateFile $CertificateFile -CertificatePassword $CertificatePassword }
else { Write-TmbResult FAIL certificate 'BOT_MEDIA_CERT_THUMBPRINT is not set' }

# --- the media port ---
$mediaPort = [int](Get-TmbSetting $config 'BOT_MEDIA_INTERNAL_PORT')
if (Test-TmbPortListening -Address '127.0.0.1' -Port $mediaPort) { Write-TmbResult OK 'media port' "TCP $mediaPort is listening" }
else { Write-TmbResult FAIL 'media port' "nothing listens on TCP $mediaPort (BOT_MEDIA_INTERNAL_PORT): the media platform is not up, calls would stay in establishing" }

if ($script:TmbFailures -gt 0) {
    Write-Host "unhealthy: $($script:TmbFailures) failed, $($script:TmbWarnings) warning(s)"
    exit 1
}
Write-Host "healthy$(if ($script:TmbWarnings -gt 0) { ", $($script:TmbWarnings) warning(s)" })"
exit 0
