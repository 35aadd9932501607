namespace LlmProxy.Bench;

internal sealed record SettingsFacts(int Rounds, double Seconds, double WarmupSeconds, int Concurrency, int StreamSamples, int StreamWarmup,
    int RequestBytes, int ResponseBytes, int StreamBytes);
