using System.Numerics;
using System.Text;

namespace ResNet.MLNet.Weights;

/// <summary>What a restricted unpickler may build: the globals it allows and what calling them yields.</summary>
internal interface IPickleResolver
{
    /// <summary>Whether a GLOBAL / STACK_GLOBAL may name <paramref name="module"/>.<paramref name="name"/>.</summary>
    bool IsAllowed(string module, string name);

    /// <summary>The value of calling an allowed global (REDUCE, NEWOBJ). Throws <see cref="InvalidDataException"/> for bad arguments.</summary>
    object? Call(PickleGlobal callable, object?[] args);

    /// <summary>The object a persistent id (BINPERSID) stands for.</summary>
    object? PersistentLoad(object? id);
}

/// <summary>
/// Bytes a pickle may make the reader allocate: <see cref="Minimum"/> plus <see cref="PerFileByte"/> per byte of the
/// file it came from. Shared by the pickles of one file (the legacy format holds five), so that memo re-encoding,
/// DUP/MEMOIZE/EMPTY_DICT floods and the like cannot turn a small file into gigabytes. A state_dict pickle of a real
/// checkpoint needs a small fraction of it.
/// </summary>
internal sealed class PickleBudget(long limit)
{
    /// <summary>Bytes allowed per byte of the file.</summary>
    public const int PerFileByte = 16;

    /// <summary>Bytes allowed whatever the file's size: 4 MiB.</summary>
    public const long Minimum = 4L << 20;

    /// <summary>The budget of a file of <paramref name="fileLength"/> bytes.</summary>
    public static PickleBudget ForFile(long fileLength) => new(Minimum + PerFileByte * Math.Max(0, fileLength));

    /// <summary>Most bytes the pickles may allocate.</summary>
    public long Limit { get; } = limit;

    /// <summary>Bytes charged so far (an estimate of managed allocations, counted when made, never refunded).</summary>
    public long Used { get; private set; }

    /// <summary>Adds <paramref name="bytes"/>; false once the total exceeds <see cref="Limit"/>.</summary>
    public bool TryCharge(long bytes)
    {
        Used += bytes;
        return Used <= Limit;
    }
}

/// <summary>
/// A restricted unpickler (protocols 2 to 5, and the binary opcodes of 1): it builds plain values (None, bool, int,
/// float, str, bytes, tuple as <c>object?[]</c>, list, set as a list, dict as <see cref="PickleDict"/>), checks every
/// GLOBAL against the resolver's allowlist when it is read and leaves calls and persistent ids to the resolver.
/// It executes nothing. Limits: mark nesting <see cref="MaxDepth"/>, memo size, every length bounded by the bytes that
/// remain, integers up to <see cref="MaxLongBytes"/> bytes, every allocation charged to a <see cref="PickleBudget"/>
/// (by default that of a file the size of the input); each opcode consumes input, so every input ends.
/// Errors are <see cref="InvalidDataException"/> (<see cref="UnsafePickleException"/> for a refused global) naming
/// the source and the byte offset.
/// </summary>
internal sealed class PickleReader(ByteCursor input, IPickleResolver resolver, PickleBudget? budget = null)
{
    // Estimated managed sizes (64-bit) of what the reader allocates, charged to the budget.
    private const int Reference = 8;
    private const int ObjectHeader = 24;
    private const int DictCost = 160; // PickleDict: its entry list and index
    private const int DictEntryCost = 48; // an entry in both
    private const int MemoEntryCost = 56; // a Dictionary<long, object?> entry, amortized growth included

    private readonly PickleBudget budget = budget ?? PickleBudget.ForFile(input.Data.Length);

    /// <summary>Deepest nesting of MARKs (open tuples, lists, dicts being built).</summary>
    public const int MaxDepth = 1000;

    /// <summary>Longest LONG1/LONG4 integer, in bytes.</summary>
    public const int MaxLongBytes = 1024;

    private const int MaxMemo = 1 << 24;
    private const int MaxGlobalName = 256;

    private readonly List<object?> stack = [];
    private readonly List<int> marks = [];
    private readonly Dictionary<long, object?> memo = [];

    /// <summary>Reads one pickle, up to and including its STOP opcode, and returns its value.</summary>
    public object? Load()
    {
        stack.Clear();
        marks.Clear();
        memo.Clear();
        while (true)
        {
            int at = input.Position;
            byte op = input.ReadByte();
            try
            {
                if (op == 0x2E) // STOP
                {
                    if (stack.Count != 1 || marks.Count != 0)
                        throw input.Error($"STOP with {stack.Count} values on the stack and {marks.Count} open marks", at);
                    return stack[0];
                }
                Execute(op, at);
            }
            catch (InvalidDataException) { throw; }
            catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException or DecoderFallbackException)
            {
                throw input.Error($"malformed pickle at opcode 0x{op:X2}: {UserMessages.Of(e)}", at);
            }
        }
    }

    private void Execute(byte op, int at)
    {
        switch (op)
        {
            case 0x80: // PROTO
                byte protocol = input.ReadByte();
                if (protocol > 5)
                    throw input.Error($"unsupported pickle protocol {protocol}", at);
                break;
            case 0x95: // FRAME: a length hint only
                ulong frame = input.ReadUInt64();
                if (frame > (ulong)input.Remaining)
                    throw input.Error($"frame of {frame} bytes is longer than the {input.Remaining} bytes that remain", at);
                break;
            case 0x28: // MARK
                if (marks.Count >= MaxDepth)
                    throw input.Error($"pickle nests deeper than {MaxDepth} levels", at);
                marks.Add(stack.Count);
                break;
            case 0x29: Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
            case 0x5D: PushNew(new List<object?>(), at); break; // EMPTY_LIST
            case 0x7D: PushNew(new PickleDict(), at); break; // EMPTY_DICT
            case 0x8F: PushNew(new List<object?>(), at); break; // EMPTY_SET
            case 0x74: PushNew(PopMark(at).ToArray(), at); break; // TUPLE
            case 0x85: PushNew(PopN(1, at), at); break; // TUPLE1
            case 0x86: PushNew(PopN(2, at), at); break; // TUPLE2
            case 0x87: PushNew(PopN(3, at), at); break; // TUPLE3
            case 0x6C: PushNew(PopMark(at), at); break; // LIST
            case 0x91: PushNew(PopMark(at), at); break; // FROZENSET
            case 0x64: // DICT
                var dict = new PickleDict();
                SetItems(dict, PopMark(at), at);
                PushNew(dict, at);
                break;
            case 0x61: // APPEND
                object? item = Pop(at);
                Charge(Reference, at);
                Expect<List<object?>>(Peek(at), "APPEND target", at).Add(item);
                break;
            case 0x65: // APPENDS
            case 0x90: // ADDITEMS
                var items = PopMark(at);
                Charge((long)Reference * items.Count, at);
                Expect<List<object?>>(Peek(at), "APPENDS target", at).AddRange(items);
                break;
            case 0x73: // SETITEM
                object? value = Pop(at);
                object? key = Pop(at);
                Charge(DictEntryCost, at);
                Expect<PickleDict>(Peek(at), "SETITEM target", at).Set(key, value);
                break;
            case 0x75: // SETITEMS
                var pairs = PopMark(at);
                SetItems(Expect<PickleDict>(Peek(at), "SETITEMS target", at), pairs, at);
                break;
            case 0x4E: Push(null); break; // NONE
            case 0x88: PushNew(true, at); break; // NEWTRUE
            case 0x89: PushNew(false, at); break; // NEWFALSE
            case 0x4A: PushNew((long)input.ReadInt32(), at); break; // BININT
            case 0x4B: PushNew((long)input.ReadByte(), at); break; // BININT1
            case 0x4D: PushNew((long)input.ReadUInt16(), at); break; // BININT2
            case 0x8A: PushNew(ReadLong(input.ReadByte(), at), at); break; // LONG1
            case 0x8B: PushNew(ReadLong(input.ReadUInt32(), at), at); break; // LONG4
            case 0x47: PushNew(input.ReadDoubleBigEndian(), at); break; // BINFLOAT
            case 0x58: PushNew(input.ReadUtf8(input.ReadUInt32()), at); break; // BINUNICODE
            case 0x8C: PushNew(input.ReadUtf8(input.ReadByte()), at); break; // SHORT_BINUNICODE
            case 0x8D: PushNew(input.ReadUtf8(input.ReadUInt64()), at); break; // BINUNICODE8
            case 0x54: PushNew(Encoding.Latin1.GetString(input.ReadBytes((ulong)input.ReadUInt32()).Span), at); break; // BINSTRING (Python 2 str)
            case 0x55: PushNew(Encoding.Latin1.GetString(input.ReadBytes((ulong)input.ReadByte()).Span), at); break; // SHORT_BINSTRING
            case 0x42: PushNew(input.ReadBytes((ulong)input.ReadUInt32()).ToArray(), at); break; // BINBYTES
            case 0x43: PushNew(input.ReadBytes((ulong)input.ReadByte()).ToArray(), at); break; // SHORT_BINBYTES
            case 0x8E: // BINBYTES8
            case 0x96: // BYTEARRAY8
                PushNew(input.ReadBytes(input.ReadUInt64()).ToArray(), at);
                break;
            case 0x63: // GLOBAL
                string module = ReadGlobalLine(at);
                string name = ReadGlobalLine(at);
                PushNew(Global(module, name, at), at);
                break;
            case 0x93: // STACK_GLOBAL
                string stackName = Expect<string>(Pop(at), "STACK_GLOBAL name", at);
                string stackModule = Expect<string>(Pop(at), "STACK_GLOBAL module", at);
                PushNew(Global(stackModule, stackName, at), at);
                break;
            case 0x69: // INST: a class named inline, instantiated with the marked arguments
                Global(ReadGlobalLine(at), ReadGlobalLine(at), at);
                throw input.Error("the INST opcode is not supported", at);
            case 0x52: // REDUCE
                object?[] args = Expect<object?[]>(Pop(at), "REDUCE arguments", at);
                PushNew(Call(Pop(at), args, at), at);
                break;
            case 0x81: // NEWOBJ
                object?[] newArgs = Expect<object?[]>(Pop(at), "NEWOBJ arguments", at);
                PushNew(Call(Pop(at), newArgs, at), at);
                break;
            case 0x92: // NEWOBJ_EX
                var kwargs = Expect<PickleDict>(Pop(at), "NEWOBJ_EX keyword arguments", at);
                object?[] exArgs = Expect<object?[]>(Pop(at), "NEWOBJ_EX arguments", at);
                if (kwargs.Count != 0)
                    throw input.Error("NEWOBJ_EX with keyword arguments is not supported", at);
                PushNew(Call(Pop(at), exArgs, at), at);
                break;
            case 0x62: // BUILD: instance state; kept only by objects that need none (dicts, tensors)
                Pop(at);
                if (Peek(at) is null or string or long or bool or double or BigInteger or byte[] or object?[] or List<object?> or PickleGlobal)
                    throw input.Error($"BUILD on a {Describe(Peek(at))}", at);
                break;
            case 0x51: // BINPERSID
                PushNew(PersistentLoad(Pop(at), at), at);
                break;
            case 0x71: Put(input.ReadByte(), at); break; // BINPUT
            case 0x72: Put(input.ReadUInt32(), at); break; // LONG_BINPUT
            case 0x94: Put(memo.Count, at); break; // MEMOIZE
            case 0x68: Push(Get(input.ReadByte(), at)); break; // BINGET
            case 0x6A: Push(Get(input.ReadUInt32(), at)); break; // LONG_BINGET
            case 0x30: Pop(at); break; // POP
            case 0x31: PopMark(at); break; // POP_MARK
            case 0x32: Push(Peek(at)); break; // DUP
            default:
                throw input.Error($"unsupported pickle opcode 0x{op:X2}", at);
        }
    }

    private PickleGlobal Global(string module, string name, int at)
    {
        if (!resolver.IsAllowed(module, name))
            throw new UnsafePickleException(input.Source, $"{module}.{name}", at);
        return new PickleGlobal(module, name);
    }

    private object? Call(object? callable, object?[] args, int at)
    {
        var global = callable as PickleGlobal ?? throw input.Error($"call of a {Describe(callable)}, not of a global", at);
        return Resolve(() => resolver.Call(global, args), at);
    }

    // Its own method: a lambda capturing a local of Execute's switch would allocate a closure for every opcode.
    private object? PersistentLoad(object? id, int at) => Resolve(() => resolver.PersistentLoad(id), at);

    private object? Resolve(Func<object?> resolve, int at)
    {
        try
        {
            return resolve();
        }
        catch (InvalidDataException e)
        {
            throw input.Error(e.Message, at);
        }
    }

    private void SetItems(PickleDict dict, List<object?> pairs, int at)
    {
        if (pairs.Count % 2 != 0)
            throw input.Error($"odd number of items ({pairs.Count}) for a dict", at);
        Charge((long)DictEntryCost * (pairs.Count / 2), at);
        for (int i = 0; i < pairs.Count; i += 2)
            dict.Set(pairs[i], pairs[i + 1]);
    }

    private object ReadLong(long length, int at)
    {
        if (length > MaxLongBytes)
            throw input.Error($"integer of {length} bytes is longer than the {MaxLongBytes} allowed", at);
        var bytes = input.ReadBytes(length).Span;
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private string ReadGlobalLine(int at)
    {
        var line = input.ReadLine(MaxGlobalName);
        foreach (byte b in line)
        {
            if (b < 0x20 || b > 0x7E)
                throw input.Error("GLOBAL name is not printable ASCII", at);
        }
        return Encoding.ASCII.GetString(line);
    }

    private void Put(long index, int at)
    {
        if (stack.Count == 0 || (marks.Count > 0 && stack.Count == marks[^1]))
            throw input.Error("memo put with an empty stack", at);
        if (!memo.ContainsKey(index))
        {
            if (memo.Count >= MaxMemo)
                throw input.Error($"more than {MaxMemo} memo entries", at);
            Charge(MemoEntryCost, at);
        }
        memo[index] = stack[^1];
    }

    private object? Get(long index, int at) =>
        memo.TryGetValue(index, out var value) ? value : throw input.Error($"memo entry {index} was never stored", at);

    /// <summary>Pushes a value already charged for (a memo entry, a duplicate, None): only the stack slot is new.</summary>
    private void Push(object? value)
    {
        Charge(Reference, input.Position);
        stack.Add(value);
    }

    /// <summary>Pushes a value just made, charging its estimated size.</summary>
    private void PushNew(object? value, int at)
    {
        Charge(Reference + Cost(value), at);
        stack.Add(value);
    }

    private void Charge(long bytes, int at)
    {
        if (!budget.TryCharge(bytes))
            throw input.Error(
                $"the pickle would allocate more than {budget.Limit} bytes ({PickleBudget.PerFileByte} per byte of the file, plus {PickleBudget.Minimum}); " +
                "a state_dict needs far less, so the file is refused", at);
    }

    /// <summary>Estimated managed size of a value the reader or resolver made (not counting what it refers to).</summary>
    private static long Cost(object? value) => value switch
    {
        null => 0,
        string s => ObjectHeader + 2L * s.Length,
        byte[] b => ObjectHeader + b.LongLength,
        object?[] t => ObjectHeader + (long)Reference * t.Length,
        List<object?> l => 2 * ObjectHeader + (long)Reference * l.Capacity,
        PickleDict d => DictCost + (long)DictEntryCost * d.Count,
        BigInteger n => 2 * ObjectHeader + n.GetByteCount(),
        PickleGlobal g => 2 * ObjectHeader + 2L * (g.Module.Length + g.Name.Length),
        TensorRef t => 4 * ObjectHeader + 2L * Reference * (t.Size.Length + t.Stride.Length),
        long or double or bool => ObjectHeader, // boxed
        _ => 3 * ObjectHeader, // storages, views
    };

    private object? Peek(int at)
    {
        if (stack.Count == 0 || (marks.Count > 0 && stack.Count == marks[^1]))
            throw input.Error("stack underflow", at);
        return stack[^1];
    }

    private object? Pop(int at)
    {
        object? value = Peek(at);
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private object?[] PopN(int count, int at)
    {
        var values = new object?[count];
        for (int i = count - 1; i >= 0; i--)
            values[i] = Pop(at);
        return values;
    }

    private List<object?> PopMark(int at)
    {
        if (marks.Count == 0)
            throw input.Error("no MARK to pop to", at);
        int start = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        Charge(ObjectHeader + (long)Reference * (stack.Count - start), at);
        var items = stack.GetRange(start, stack.Count - start);
        stack.RemoveRange(start, stack.Count - start);
        return items;
    }

    private T Expect<T>(object? value, string what, int at) =>
        value is T t ? t : throw input.Error($"{what} is a {Describe(value)}", at);

    /// <summary>A short, non-recursive description of a value for error messages.</summary>
    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string => "str",
        long or BigInteger => "int",
        bool => "bool",
        double => "float",
        byte[] => "bytes",
        object?[] t => $"tuple of {t.Length}",
        List<object?> l => $"list of {l.Count}",
        PickleDict d => $"dict of {d.Count}",
        PickleGlobal g => $"global {g}",
        _ => value.GetType().Name,
    };
}
