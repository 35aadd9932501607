using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(LlmProxy.MicroBench.ValidationBenchmarks).Assembly).Run(args);
