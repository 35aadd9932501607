using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using LlmProxy.Hosting;

namespace LlmProxy.Tests.Hosting;

/// <summary>
/// The design rule "no static mutable state in src/LlmProxy": caches are bounded singletons of the host, so two hosts
/// in one process (the tests, any embedding) never share or grow each other's state.
/// </summary>
public sealed class NoStaticStateTests
{
    // Collections whose contents can change after construction. Arrays are left out: the static arrays are constant
    // tables (histogram buckets, header names, UTF-8 literals) that nothing writes after their initializer.
    private static readonly Type[] MutableCollections =
    [
        typeof(Dictionary<,>), typeof(ConcurrentDictionary<,>), typeof(List<>), typeof(HashSet<>), typeof(SortedDictionary<,>),
        typeof(SortedSet<>), typeof(Queue<>), typeof(Stack<>), typeof(LinkedList<>), typeof(ConcurrentQueue<>), typeof(ConcurrentBag<>),
        typeof(ConcurrentStack<>), typeof(Hashtable), typeof(ArrayList),
    ];

    [Fact]
    public void Assembly_StaticFields_NoneMutable()
    {
        var assembly = typeof(LlmProxyServiceCollectionExtensions).Assembly;
        var offenders = new List<string>();
        foreach (var type in assembly.GetTypes().Where(static t => !IsGenerated(t)))
        {
            foreach (var field in type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                // Constants are immutable; compiler-made fields are skipped, except auto-properties' backing fields.
                if (field.IsLiteral || (IsGeneratedName(field.Name) && !field.Name.EndsWith(">k__BackingField", StringComparison.Ordinal)))
                {
                    continue;
                }

                if (!field.IsInitOnly)
                {
                    offenders.Add($"{type.FullName}.{field.Name}: static and not readonly");
                }
                else if (IsMutableCollection(field.FieldType))
                {
                    offenders.Add($"{type.FullName}.{field.Name}: static readonly {field.FieldType.Name} (a mutable collection; a table should be a FrozenSet/FrozenDictionary)");
                }
            }
        }

        Assert.Empty(offenders);
    }

    [Fact]
    public void IsMutableCollection_KnownTypes_TheCheckSeesThem()
    {
        Assert.True(IsMutableCollection(typeof(List<string>)));
        Assert.True(IsMutableCollection(typeof(ConcurrentDictionary<(ulong, int), int>)));
        Assert.False(IsMutableCollection(typeof(System.Collections.Frozen.FrozenSet<string>)));
        Assert.False(IsMutableCollection(typeof(string[])));
    }

    private static bool IsMutableCollection(Type type)
        => (type.IsGenericType ? type.GetGenericTypeDefinition() : type) is var definition && MutableCollections.Contains(definition);

    // Compiler-made types (closures, state machines, lambdas' caches) and fields: not the gateway's state. Source
    // generators' types (regexes, logging, JSON contexts) carry GeneratedCode and hold only caches of immutable metadata.
    private static bool IsGenerated(Type type)
        => IsGeneratedName(type.Name) || type.IsDefined(typeof(CompilerGeneratedAttribute), false)
            || (type.DeclaringType is { } outer && IsGenerated(outer));

    private static bool IsGeneratedName(string name) => name.Contains('<', StringComparison.Ordinal);
}
