using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmProxy.Hosting;

/// <summary>
/// Writes <c>/health/ready</c>: the overall status as text (what probes read, as ASP.NET Core writes it), or with
/// <c>?details=true</c> a JSON document with each check's status, description and data (the targets' circuits among them).
/// </summary>
internal static class HealthReportWriter
{
    /// <summary>Writes <paramref name="report"/>.</summary>
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        var details = context.Request.Query["details"];
        if (details.Count == 0 || details[0] is not ("true" or "1"))
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(report.Status.ToString());
            return;
        }

        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description);
            json.WriteStartObject("data");
            foreach (var (key, value) in entry.Data)
            {
                json.WritePropertyName(key);
                WriteValue(json, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync();
    }

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case string text:
                json.WriteStringValue(text);
                break;
            case double number:
                json.WriteNumberValue(number);
                break;
            case int number:
                json.WriteNumberValue(number);
                break;
            case long number:
                json.WriteNumberValue(number);
                break;
            case bool flag:
                json.WriteBooleanValue(flag);
                break;
            case IEnumerable<KeyValuePair<string, object>> fields:
                json.WriteStartObject();
                foreach (var (key, field) in fields)
                {
                    json.WritePropertyName(key);
                    WriteValue(json, field);
                }

                json.WriteEndObject();
                break;
            default:
                json.WriteStringValue(value.ToString());
                break;
        }
    }
}
