using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TeamsMediaBridge.Platform.Fake;

namespace TeamsMediaBridge.Host;

/// <summary>
/// The fake platform's echo latency on the bridge's listener (--fake-echo-stats), for
/// bench:load:dotnet: POST /fake-platform/echo-latency/reset starts a window, GET
/// /fake-platform/echo-latency reads it (JSON, exact microseconds). An endpoint rather than
/// Prometheus metrics: histograms there are bucket bounds, and a reading over the benchmark's
/// own window needs a reset that a scrape must not do.
/// </summary>
internal static class FakeEchoRoutes
{
    public const string ReadPath = "/fake-platform/echo-latency";
    public const string ResetPath = "/fake-platform/echo-latency/reset";

    public static IReadOnlyDictionary<string, RequestDelegate> For(EchoLatencyStats stats) => new Dictionary<string, RequestDelegate>
    {
        [ReadPath] = async context =>
        {
            if (!HttpMethods.IsGet(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return;
            }
            context.Response.ContentType = "application/json";
            await using var json = new Utf8JsonWriter(context.Response.Body);
            stats.WriteJson(json);
        },
        [ResetPath] = context =>
        {
            if (!HttpMethods.IsPost(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return Task.CompletedTask;
            }
            stats.Reset();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        },
    };
}
