using System.Net;

namespace TeamsMediaBridge.Platform.Skype;

/// <summary>What MediaPlatformSettings needs: this instance's certificate, ports, address and name.</summary>
public sealed class SkypePlatformSettings
{
    /// <summary>The bot's application id.</summary>
    public required string ApplicationId { get; init; }

    /// <summary>Thumbprint of the certificate (in LocalMachine\My) whose name matches <see cref="ServiceFqdn"/>.</summary>
    public required string CertificateThumbprint { get; init; }

    public required int InstanceInternalPort { get; init; }
    public required int InstancePublicPort { get; init; }
    public required IPAddress InstancePublicIpAddress { get; init; }
    public required string ServiceFqdn { get; init; }
}
