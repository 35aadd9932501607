using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LlmProxy.StructuredOutput;

/// <summary>
/// Reads a JSON answer as it streams in and says as soon as the text so far can no longer become valid: a JSON syntax
/// error, a property that <c>additionalProperties: false</c> forbids, or a value whose type (or, once complete,
/// whose value against <c>enum</c>/<c>const</c>) breaks its schema. Below <c>anyOf</c>/<c>oneOf</c>/<c>allOf</c>/
/// <c>not</c>/<c>if</c> nothing is decided early (the full validation at the end still runs).
/// </summary>
public sealed class IncrementalJsonChecker
{
    private readonly JsonElement? _root;
    private readonly Stack<Frame> _stack = new();
    private readonly StringBuilder _token = new();
    private JsonElement? _pending;
    private Mode _mode = Mode.Value;
    private bool _escape;
    private int _unicode;

    /// <summary>Starts a check of an answer that must satisfy <paramref name="schema"/> (null: any JSON).</summary>
    public IncrementalJsonChecker(JsonElement? schema)
    {
        _root = schema;
        _pending = schema;
    }

    private enum Mode
    {
        Value,
        String,
        Key,
        Number,
        Literal,
        AfterValue,
        Colon,
        KeyOrEnd,
        ValueOrEnd,
    }

    /// <summary>The first violation found; null while the answer can still become valid.</summary>
    public Violation? Violation { get; private set; }

    /// <summary>Feeds the next piece of the answer. Returns false once it can no longer become valid.</summary>
    public bool Add(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (Violation is not null)
            {
                return false;
            }

            Step(c);
        }

        return Violation is null;
    }

    private void Step(char c)
    {
        switch (_mode)
        {
            case Mode.String or Mode.Key:
                StringChar(c);
                return;
            case Mode.Number:
                if (c is (>= '0' and <= '9') or '-' or '+' or '.' or 'e' or 'E')
                {
                    _token.Append(c);
                    return;
                }

                EndNumber();
                if (Violation is null)
                {
                    Step(c);
                }

                return;
            case Mode.Literal:
                LiteralChar(c);
                return;
        }

        if (c is ' ' or '\t' or '\r' or '\n')
        {
            return;
        }

        switch (_mode)
        {
            case Mode.Value or Mode.ValueOrEnd:
                if (_mode == Mode.ValueOrEnd && c == ']')
                {
                    EndContainer(isObject: false);
                    return;
                }

                StartValue(c);
                return;
            case Mode.KeyOrEnd:
                if (c == '}')
                {
                    EndContainer(isObject: true);
                }
                else if (c == '"')
                {
                    _token.Clear();
                    _mode = Mode.Key;
                }
                else
                {
                    Fail("json", $"expected a property name, found '{c}'");
                }

                return;
            case Mode.Colon:
                if (c == ':')
                {
                    _mode = Mode.Value;
                }
                else
                {
                    Fail("json", $"expected ':', found '{c}'");
                }

                return;
            case Mode.AfterValue:
                AfterValue(c);
                return;
        }
    }

    private void StartValue(char c)
    {
        var schema = Resolve(_pending);
        switch (c)
        {
            case '{':
                CheckType(schema, "object");
                _stack.Push(new Frame(true, schema, Path()));
                _mode = Mode.KeyOrEnd;
                break;
            case '[':
                CheckType(schema, "array");
                _stack.Push(new Frame(false, schema, Path()));
                _pending = Items(schema);
                _mode = Mode.ValueOrEnd;
                break;
            case '"':
                CheckType(schema, "string");
                _token.Clear();
                _pending = schema;
                _mode = Mode.String;
                break;
            case '-' or (>= '0' and <= '9'):
                CheckType(schema, "number");
                _token.Clear().Append(c);
                _pending = schema;
                _mode = Mode.Number;
                break;
            case 't' or 'f' or 'n':
                CheckType(schema, c == 'n' ? "null" : "boolean");
                _token.Clear().Append(c);
                _pending = schema;
                _mode = Mode.Literal;
                break;
            default:
                Fail("json", $"'{c}' cannot start a JSON value");
                break;
        }
    }

    private void StringChar(char c)
    {
        if (_unicode > 0)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                Fail("json", "bad \\u escape");
                return;
            }

            _token.Append(c);
            if (--_unicode == 0)
            {
                var code = int.Parse(_token.ToString(_token.Length - 4, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _token.Length -= 4;
                _token.Append((char)code);
            }

            return;
        }

        if (_escape)
        {
            _escape = false;
            switch (c)
            {
                case '"' or '\\' or '/':
                    _token.Append(c);
                    break;
                case 'b':
                    _token.Append('\b');
                    break;
                case 'f':
                    _token.Append('\f');
                    break;
                case 'n':
                    _token.Append('\n');
                    break;
                case 'r':
                    _token.Append('\r');
                    break;
                case 't':
                    _token.Append('\t');
                    break;
                case 'u':
                    _unicode = 4;
                    break;
                default:
                    Fail("json", $"bad escape '\\{c}'");
                    break;
            }

            return;
        }

        if (c == '\\')
        {
            _escape = true;
        }
        else if (c == '"')
        {
            if (_mode == Mode.Key)
            {
                EndKey(_token.ToString());
            }
            else
            {
                var text = _token.ToString();
                CheckValue(_pending, JsonValueKind.String, text, null);
                EndValue();
            }
        }
        else if (c < ' ')
        {
            Fail("json", "a control character inside a string");
        }
        else
        {
            _token.Append(c);
        }
    }

    private void LiteralChar(char c)
    {
        var text = _token.ToString() + c;
        var target = text[0] switch { 't' => "true", 'f' => "false", _ => "null" };
        if (!target.StartsWith(text, StringComparison.Ordinal))
        {
            Fail("json", $"'{text}' is not true, false or null");
            return;
        }

        _token.Append(c);
        if (text.Length == target.Length)
        {
            CheckValue(_pending, text == "null" ? JsonValueKind.Null : text == "true" ? JsonValueKind.True : JsonValueKind.False, null, null);
            EndValue();
        }
    }

    private void EndNumber()
    {
        var text = _token.ToString();
        if (!IsJsonNumber(text))
        {
            Fail("json", $"'{ErrorTextOf(text)}' is not a JSON number");
            return;
        }

        if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            // A valid number beyond decimal's range: nothing is decided early; the whole answer is checked at the end.
            EndValue();
            return;
        }

        if (Resolve(_pending) is { } schema && AllowsOnly(schema, "integer") && number != decimal.Truncate(number))
        {
            Fail("type", "a number where the schema wants an integer");
            return;
        }

        CheckValue(_pending, JsonValueKind.Number, null, number);
        EndValue();
    }

    // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private static bool IsJsonNumber(ReadOnlySpan<char> text)
    {
        var i = text.Length > 0 && text[0] == '-' ? 1 : 0;
        var integer = Digits(text, ref i);
        if (integer == 0 || (integer > 1 && text[i - integer] == '0'))
        {
            return false;
        }

        if (i < text.Length && text[i] == '.')
        {
            i++;
            if (Digits(text, ref i) == 0)
            {
                return false;
            }
        }

        if (i < text.Length && text[i] is 'e' or 'E')
        {
            i++;
            if (i < text.Length && text[i] is '+' or '-')
            {
                i++;
            }

            if (Digits(text, ref i) == 0)
            {
                return false;
            }
        }

        return i == text.Length;
    }

    private static int Digits(ReadOnlySpan<char> text, ref int i)
    {
        var start = i;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        return i - start;
    }

    private static string ErrorTextOf(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private void EndKey(string key)
    {
        var frame = _stack.Peek();
        frame.Pointer = frame.Base + "/" + key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
        _pending = null;
        if (frame.Schema is { } schema)
        {
            if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(key, out var property))
            {
                _pending = property;
            }
            else if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                if (additional.ValueKind == JsonValueKind.False && !schema.TryGetProperty("patternProperties", out _))
                {
                    Fail("additionalProperties", $"property '{key}' is not allowed", frame.Pointer);
                    return;
                }

                _pending = additional.ValueKind == JsonValueKind.Object ? additional : null;
            }
        }

        _mode = Mode.Colon;
    }

    private void AfterValue(char c)
    {
        if (_stack.Count == 0)
        {
            Fail("json", "text after the end of the JSON value");
            return;
        }

        var frame = _stack.Peek();
        if (c == ',')
        {
            if (frame.IsObject)
            {
                _mode = Mode.KeyOrEnd;
            }
            else
            {
                frame.Index++;
                frame.Pointer = frame.Base + "/" + frame.Index.ToString(CultureInfo.InvariantCulture);
                _pending = Items(frame.Schema);
                _mode = Mode.Value;
            }
        }
        else if (c == (frame.IsObject ? '}' : ']'))
        {
            EndContainer(frame.IsObject);
        }
        else
        {
            Fail("json", $"expected ',' or '{(frame.IsObject ? '}' : ']')}', found '{c}'");
        }
    }

    private void EndContainer(bool isObject)
    {
        var frame = _stack.Peek();
        if (frame.IsObject != isObject)
        {
            Fail("json", "mismatched brackets");
            return;
        }

        _stack.Pop();
        EndValue();
    }

    private void EndValue()
    {
        _token.Clear();
        _mode = Mode.AfterValue;
    }

    // What the next array element must satisfy (set when an array starts or moves on).
    private static JsonElement? Items(JsonElement? array)
        => array is { } schema && schema.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Object ? items : null;

    private string Path() => _stack.Count == 0 ? "" : _stack.Peek().Pointer;

    // Follows local $refs; a schema that combines others (anyOf…) is not decided early: null. Neither is an embedded
    // resource (a subschema with its own $id), whose references resolve against another base.
    private JsonElement? Resolve(JsonElement? schema)
    {
        for (var hops = 0; schema is { ValueKind: JsonValueKind.Object } current && hops < 32; hops++)
        {
            if (current.TryGetProperty("anyOf", out _) || current.TryGetProperty("oneOf", out _) || current.TryGetProperty("allOf", out _)
                || current.TryGetProperty("not", out _) || current.TryGetProperty("if", out _) || (current.TryGetProperty("$id", out _) && !IsRoot(current)))
            {
                return null;
            }

            if (!current.TryGetProperty("$ref", out var reference) || reference.ValueKind != JsonValueKind.String)
            {
                return current;
            }

            schema = _root is { } root ? SchemaCache.Resolve(root, reference.GetString()!) : null;
        }

        return null;
    }


    private bool IsRoot(JsonElement schema) => _root is { } root
        && Unsafe.AreSame(ref MemoryMarshal.GetReference(JsonMarshal.GetRawUtf8Value(root)), ref MemoryMarshal.GetReference(JsonMarshal.GetRawUtf8Value(schema)));

    private void CheckType(JsonElement? schema, string kind)
    {
        if (schema is { } s && s.TryGetProperty("type", out var type) && !TypeAllows(type, kind))
        {
            Fail("type", $"a value of type {kind} where the schema wants {type.GetRawText()}");
        }

        if (kind is "object" or "array")
        {
            _pending = schema;
        }
    }

    private static bool TypeAllows(JsonElement type, string kind)
    {
        bool One(string? t) => t == kind || (kind == "number" && t == "integer") || (kind == "integer" && t == "number");

        return type.ValueKind switch
        {
            JsonValueKind.String => One(type.GetString()),
            JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && One(t.GetString())),
            _ => true,
        };
    }

    private static bool AllowsOnly(JsonElement schema, string kind)
        => schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == kind;

    // enum and const, once a scalar value is complete.
    private void CheckValue(JsonElement? pending, JsonValueKind kind, string? text, decimal? number)
    {
        if (Resolve(pending) is not { } schema)
        {
            return;
        }

        if (schema.TryGetProperty("const", out var constant) && !Same(constant, kind, text, number))
        {
            Fail("const", $"the value must be {constant.GetRawText()}");
        }
        else if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array
            && !values.EnumerateArray().Any(v => Same(v, kind, text, number)))
        {
            Fail("enum", $"the value must be one of {values.GetRawText()}");
        }
    }

    private static bool Same(JsonElement expected, JsonValueKind kind, string? text, decimal? number) => expected.ValueKind switch
    {
        JsonValueKind.String => kind == JsonValueKind.String && expected.GetString() == text,
        JsonValueKind.Number => kind == JsonValueKind.Number && expected.TryGetDecimal(out var value) && value == number,
        _ => expected.ValueKind == kind,
    };

    private void Fail(string keyword, string message, string? pointer = null)
        => Violation ??= new Violation(pointer ?? Path(), keyword, message);

    private sealed class Frame(bool isObject, JsonElement? schema, string basePointer)
    {
        public bool IsObject { get; } = isObject;

        public JsonElement? Schema { get; } = schema;

        public string Base { get; } = basePointer;

        public string Pointer { get; set; } = isObject ? basePointer : basePointer + "/0";

        public int Index { get; set; }
    }
}
