using System.Runtime.CompilerServices;

namespace BatchSwap.Memory;

/// <summary>
/// The tier's address spaces by id: what a folio's owner in the frame table names. Lookups take no lock (the table
/// is copied when it grows); adding and removing take <see cref="_lock"/>, which nests inside nothing else.
/// </summary>
internal sealed class AddressSpaces
{
    // Spaces by id (copy-on-grow; read without a lock).
    private volatile AddressSpace?[] _byId = new AddressSpace?[64];
    // Guards id allocation and growth.
    private readonly Lock _lock = new();
    // Free ids.
    private readonly Stack<int> _freeIds = new();
    // Next never-used id.
    private int _nextId;

    /// <summary>The space with a given id, or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AddressSpace? ById(int id)
    {
        AddressSpace?[] t = _byId;
        return (uint)id < (uint)t.Length ? t[id] : null;
    }

    /// <summary>Makes a space with a fresh id over page-table frames <paramref name="pteFrames"/> and adds it.</summary>
    public AddressSpace Add(PageArena arena, long pages, int order, int node, int[] pteFrames)
    {
        lock (_lock)
        {
            int id = _freeIds.Count > 0 ? _freeIds.Pop() : _nextId++;
            var space = new AddressSpace(arena, id, pages, order, node, pteFrames);
            AddressSpace?[] t = _byId;
            if (id >= t.Length)
            {
                var bigger = new AddressSpace?[t.Length * 2];
                t.CopyTo(bigger, 0);
                t = bigger;
            }
            t[id] = space;
            _byId = t;
            return space;
        }
    }

    /// <summary>Removes a torn-down space; its id may be given again.</summary>
    public void Remove(AddressSpace space)
    {
        lock (_lock)
        {
            _byId[space.Id] = null;
            _freeIds.Push(space.Id);
        }
    }

    /// <summary>Closes every live space to new uses and waits for their uses (the tier is closing).</summary>
    public void CloseAll()
    {
        foreach (AddressSpace? s in _byId) s?.Close();
    }
}
