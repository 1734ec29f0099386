<#
.SYNOPSIS
Shared helpers of Install-, Test- and Uninstall-TeamsMediaBot.ps1 (dot-sourced, not run alone).

.DESCRIPTION
The fixed names (services, firewall group, manifest), reading the settings file, the checks
that both the installer and the health check make (certificate, ports), and the dry-run action
runner. Written for Windows PowerShell 5.1 and PowerShell 7: no ternary, no '??', no hashtables
from ConvertFrom-Json.
#>
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:TmbHostService = 'TeamsMediaHost'
$script:TmbBotService = 'TeamsMediaBot'
$script:TmbFirewallGroup = 'TeamsMediaBot'
$script:TmbManifestName = 'install-manifest.json'
$script:TmbFailures = 0
$script:TmbWarnings = 0

function Test-TmbIsWindows {
    # $IsWindows does not exist in Windows PowerShell 5.1, which runs on Windows only.
    if ($PSVersionTable.PSEdition -eq 'Desktop') { return $true }
    return [bool](Get-Variable -Name IsWindows -ValueOnly -ErrorAction SilentlyContinue)
}

function Join-TmbWinPath([string]$Base, [string]$Child) {
    # Installed paths are Windows paths, also when a dry run prints them on Linux.
    return $Base.TrimEnd('\', '/') + '\' + $Child
}

function Write-TmbResult {
    param([ValidateSet('OK', 'WARN', 'FAIL', 'SKIP')][string]$Status, [string]$Check, [string]$Message)
    if ($Status -eq 'FAIL') { $script:TmbFailures++ }
    if ($Status -eq 'WARN') { $script:TmbWarnings++ }
    Write-Host ('{0} {1}: {2}' -f $Status.PadRight(4), $Check, $Message)
}

function Read-TmbSettings {
    <# Reads a settings file in the template's shape; returns install values and effective BOT_* values. #>
    param([Parameter(Mandatory = $true)][string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { throw "settings file not found: $Path" }
    try { $json = Get-Content -LiteralPath $Path -Raw | ConvertFrom-Json }
    catch { throw "settings file $Path is not valid JSON: $($_.Exception.Message)" }
    foreach ($section in 'install', 'settings') {
        if (-not $json.PSObject.Properties[$section]) { throw "settings file $Path has no '$section' section (copy config\settings.template.json)" }
    }
    $install = @{}
    foreach ($p in $json.install.PSObject.Properties) { $install[$p.Name] = [string]$p.Value.value }
    $settings = [ordered]@{}
    foreach ($p in $json.settings.PSObject.Properties) {
        $entry = $p.Value
        $value = $entry.value
        # Handler options may be JSON itself, as in BOT_CONFIG_FILE.
        if ($null -ne $value -and -not ($value -is [string]) -and -not ($value -is [ValueType])) {
            $value = $value | ConvertTo-Json -Depth 20 -Compress
        }
        $settings[$p.Name] = [pscustomobject]@{
            Name     = $p.Name
            Value    = if ($null -eq $value) { '' } else { [string]$value }
            Required = [bool]$entry.required
            For      = @($entry.for)
            Default  = $entry.default
        }
    }
    return [pscustomobject]@{ Path = $Path; Install = $install; Settings = $settings }
}

function Get-TmbSetting {
    <# The value in effect: the one set, else the documented default when it is a plain value. #>
    param($Config, [string]$Name)
    if (-not $Config.Settings.Contains($Name)) { throw "unknown setting $Name" }
    $s = $Config.Settings[$Name]
    if ($s.Value -ne '') { return $s.Value }
    if ($null -ne $s.Default -and ([string]$s.Default) -notmatch '[<\s]') { return [string]$s.Default }
    return ''
}

function Get-TmbInstallValue {
    param($Config, [string]$Name, [string]$Fallback)
    if ($Config.Install.ContainsKey($Name) -and $Config.Install[$Name] -ne '') { return $Config.Install[$Name] }
    return $Fallback
}

function Get-TmbBridgeEndpoint {
    param($Config)
    $uri = [Uri](Get-TmbSetting $Config 'BOT_BRIDGE_URL')
    return [pscustomobject]@{ Host = $uri.Host; Port = $uri.Port }
}

function Get-TmbSanDnsNames {
    <# DNS names of the subjectAltName extension, read from its DER (Format() is localized on Windows). #>
    param([System.Security.Cryptography.X509Certificates.X509Certificate2]$Certificate)
    $names = @()
    foreach ($ext in $Certificate.Extensions) {
        if ($ext.Oid.Value -ne '2.5.29.17') { continue }
        $der = $ext.RawData
        $i = 0
        if ($der[$i] -ne 0x30) { continue }
        $i++
        $seqLen = Read-TmbDerLength $der ([ref]$i)
        $end = $i + $seqLen
        while ($i -lt $end) {
            $tag = $der[$i]; $i++
            $len = Read-TmbDerLength $der ([ref]$i)
            if ($tag -eq 0x82) { $names += [System.Text.Encoding]::ASCII.GetString($der, $i, $len) }
            $i += $len
        }
    }
    return , $names
}

function Read-TmbDerLength {
    param([byte[]]$Der, [ref]$Index)
    $first = $Der[$Index.Value]; $Index.Value++
    if ($first -lt 0x80) { return [int]$first }
    $count = $first -band 0x7f
    $length = 0
    for ($k = 0; $k -lt $count; $k++) { $length = ($length * 256) + $Der[$Index.Value]; $Index.Value++ }
    return $length
}

function Test-TmbNameMatches {
    <# A certificate name matches the FQDN exactly (case-insensitive) or as a one-label wildcard. #>
    param([string]$Pattern, [string]$Fqdn)
    if ($Pattern -ieq $Fqdn) { return $true }
    if ($Pattern.StartsWith('*.')) {
        $dot = $Fqdn.IndexOf('.')
        return ($dot -gt 0 -and $Fqdn.Substring($dot) -ieq $Pattern.Substring(1))
    }
    return $false
}

function Get-TmbCertificate {
    <# The media certificate: from -CertificateFile (tests, or a check before import), else LocalMachine\My. #>
    param([string]$Thumbprint, [string]$CertificateFile, [string]$CertificatePassword)
    if ($CertificateFile) {
        if (-not (Test-Path -LiteralPath $CertificateFile -PathType Leaf)) { throw "certificate file not found: $CertificateFile" }
        $full = (Resolve-Path -LiteralPath $CertificateFile).ProviderPath
        $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::DefaultKeySet
        $cert = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $full, $CertificatePassword, $flags
        return [pscustomobject]@{ Certificate = $cert; Where = "file $CertificateFile" }
    }
    if (-not (Test-TmbIsWindows)) { return $null }
    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store -ArgumentList 'My', 'LocalMachine'
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly)
    try {
        $found = $store.Certificates.Find([System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $Thumbprint, $false)
        if ($found.Count -eq 0) { return [pscustomobject]@{ Certificate = $null; Where = 'LocalMachine\My' } }
        return [pscustomobject]@{ Certificate = $found[0]; Where = 'LocalMachine\My' }
    }
    finally { $store.Close() }
}

function Test-TmbCertificate {
    <# Checks the media certificate: thumbprint, private key, name for the FQDN, validity. Returns days left or $null. #>
    param([string]$Thumbprint, [string]$Fqdn, [string]$CertificateFile, [string]$CertificatePassword, [datetime]$Now = [datetime]::UtcNow, [switch]$ExpiryOnly)
    if (-not $CertificateFile -and -not (Test-TmbIsWindows)) {
        Write-TmbResult FAIL certificate 'LocalMachine\My exists on Windows only; pass -CertificateFile to check a certificate file'
        return $null
    }
    try { $found = Get-TmbCertificate -Thumbprint $Thumbprint -CertificateFile $CertificateFile -CertificatePassword $CertificatePassword }
    catch {
        Write-TmbResult FAIL certificate ("cannot read {0}: {1}" -f $CertificateFile, $_.Exception.Message)
        return $null
    }
    if ($null -eq $found.Certificate) {
        Write-TmbResult FAIL certificate ("no certificate with thumbprint {0} in LocalMachine\My (BOT_MEDIA_CERT_THUMBPRINT); import it there with its private key" -f $Thumbprint)
        return $null
    }
    $cert = $found.Certificate
    $ok = $true
    if ($cert.Thumbprint -ine $Thumbprint) {
        Write-TmbResult FAIL certificate ("{0} has thumbprint {1}, not BOT_MEDIA_CERT_THUMBPRINT {2}" -f $found.Where, $cert.Thumbprint, $Thumbprint)
        $ok = $false
    }
    if (-not $ExpiryOnly) {
        if (-not $cert.HasPrivateKey) {
            Write-TmbResult FAIL certificate ("{0} has no private key: the media platform needs it (import the PFX with its key into LocalMachine\My)" -f $cert.Thumbprint)
            $ok = $false
        }
        $sans = Get-TmbSanDnsNames $cert
        $cn = $cert.GetNameInfo([System.Security.Cryptography.X509Certificates.X509NameType]::SimpleName, $false)
        $candidates = @($sans) + @($cn) | Where-Object { $_ }
        $match = @($candidates | Where-Object { Test-TmbNameMatches $_ $Fqdn })
        if ($match.Count -eq 0) {
            Write-TmbResult FAIL certificate ("{0} is issued to {1}; neither its subject nor a DNS SAN matches BOT_MEDIA_FQDN {2}" -f $cert.Thumbprint, (($candidates | Select-Object -Unique) -join ', '), $Fqdn)
            $ok = $false
        }
    }
    $notAfter = $cert.NotAfter.ToUniversalTime()
    $notBefore = $cert.NotBefore.ToUniversalTime()
    $daysLeft = [int][math]::Floor(($notAfter - $Now).TotalDays)
    if ($notAfter -lt $Now) {
        Write-TmbResult FAIL certificate ("{0} expired on {1:yyyy-MM-dd}" -f $cert.Thumbprint, $notAfter)
        return $daysLeft
    }
    if ($notBefore -gt $Now) {
        Write-TmbResult FAIL certificate ("{0} is not valid before {1:yyyy-MM-dd}" -f $cert.Thumbprint, $notBefore)
        return $daysLeft
    }
    if ($daysLeft -lt 30) {
        Write-TmbResult WARN certificate ("{0} expires in {1} days ({2:yyyy-MM-dd}): renew it and update BOT_MEDIA_CERT_THUMBPRINT" -f $cert.Thumbprint, $daysLeft, $notAfter)
    }
    elseif ($ok) {
        Write-TmbResult OK certificate ("{0} for {1}, valid until {2:yyyy-MM-dd} ({3} days left)" -f $cert.Thumbprint, $Fqdn, $notAfter, $daysLeft)
    }
    return $daysLeft
}

function Test-TmbPortFree {
    <# True when a TCP listener can be opened on the address and port (then closed at once). #>
    param([string]$Address, [int]$Port)
    $ip = [System.Net.IPAddress]::Any
    if ($Address -and $Address -ne '0.0.0.0') {
        $parsed = $null
        if ([System.Net.IPAddress]::TryParse($Address, [ref]$parsed)) { $ip = $parsed }
    }
    $listener = New-Object System.Net.Sockets.TcpListener -ArgumentList $ip, $Port
    # Without this, Windows lets a wildcard bind share a port already bound to one address.
    $listener.ExclusiveAddressUse = $true
    try { $listener.Start(); return $true }
    catch { return $false }
    finally { $listener.Stop() }
}

function Get-TmbPortOwner {
    <# Which process listens on the port (Windows only; '' when unknown). #>
    param([int]$Port)
    if (-not (Get-Command Get-NetTCPConnection -ErrorAction SilentlyContinue)) { return '' }
    $c = Get-NetTCPConnection -State Listen -LocalPort $Port -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($null -eq $c) { return '' }
    $p = Get-Process -Id $c.OwningProcess -ErrorAction SilentlyContinue
    if ($null -eq $p) { return " by pid $($c.OwningProcess)" }
    return " by $($p.ProcessName) (pid $($c.OwningProcess))"
}

function Test-TmbPortListening {
    <# True when something accepts a TCP connection on the port, within two seconds. #>
    param([string]$Address, [int]$Port)
    if (-not $Address -or $Address -eq '0.0.0.0') { $Address = '127.0.0.1' }
    $client = New-Object System.Net.Sockets.TcpClient
    try {
        $pending = $client.BeginConnect($Address, $Port, $null, $null)
        if (-not $pending.AsyncWaitHandle.WaitOne(2000)) { return $false }
        $client.EndConnect($pending)
        return $true
    }
    catch { return $false }
    finally { $client.Close() }
}

function Write-TmbUtf8File {
    <# UTF-8 without a BOM: Windows PowerShell 5.1's cmdlets write one with their UTF8 encoding, and the bot's JSON.parse refuses it. #>
    param([string]$Path, [string]$Text)
    [System.IO.File]::WriteAllText($Path, $Text, (New-Object System.Text.UTF8Encoding -ArgumentList $false))
}

function New-TmbAction {
    param([string]$Kind, [string]$Target, [string]$Detail, [hashtable]$Data, [scriptblock]$Run)
    return [pscustomobject]@{ Kind = $Kind; Target = $Target; Detail = $Detail; Data = $Data; Run = $Run }
}

function Invoke-TmbActions {
    <# Runs the actions in order, or with -DryRun prints what each would do. #>
    param([object[]]$Actions, [switch]$DryRun)
    foreach ($a in $Actions) {
        $line = '{0} {1}: {2}' -f $a.Kind, $a.Target, $a.Detail
        if ($DryRun) { Write-Host "WOULD $line"; continue }
        Write-Host "DO    $line"
        & $a.Run $a.Data
    }
}

function Invoke-TmbNative {
    <# Runs a program and stops on a non-zero exit code, naming the command. #>
    param([string]$FilePath, [string[]]$Arguments, [string]$WorkingDirectory)
    if ($WorkingDirectory) { Push-Location -LiteralPath $WorkingDirectory }
    try {
        & $FilePath @Arguments
        if ($LASTEXITCODE -ne 0) { throw ("{0} {1} exited {2}" -f $FilePath, ($Arguments -join ' '), $LASTEXITCODE) }
    }
    finally { if ($WorkingDirectory) { Pop-Location } }
}
