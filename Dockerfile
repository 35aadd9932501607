# Multi-stage build of the gateway. Runs as a non-root user on port 8080.
# The route config is read from /app/config/llmproxy.json (mount a ConfigMap there, or set LLMPROXY_CONFIG).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY config/ config/
COPY src/ src/
RUN dotnet publish src/LlmProxy/LlmProxy.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    LLMPROXY_CONFIG=/app/config/llmproxy.json
EXPOSE 8080
USER app

ENTRYPOINT ["dotnet", "LlmProxy.dll"]
