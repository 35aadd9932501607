namespace LlmProxy.Bench;

internal sealed record MachineFacts(int ProcessorCount, string Cpu, string Os, string Architecture, string Runtime, bool DriverServerGc);
