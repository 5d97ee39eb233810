using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace BatchSwap.Swap.Backends.Redis;

/// <summary>
/// Seals pages before they leave the process and opens them when they come back: AES-256-GCM under a random key made
/// here, held in pinned memory, zeroed on dispose, never written anywhere. The remote store sees only ciphertext.
/// <para>
/// The problem: a store outside the process can change a value, move it to another key, or hand back an older value of
/// the same key. The answer: the slot's identity is the associated data — the device's random id, the swap type, the
/// slot, and the slot's write generation (bumped on every write and kept only here, in the backend's slot table) —
/// and the nonce is (slot, generation), so it is never reused under one key. A changed value, a value moved to another
/// slot or device, or a replay of an older write of the same slot fails authentication.
/// </para>
/// Locking: none; each thread has its own <see cref="AesGcm"/> context over the one key.
/// </summary>
internal sealed class PageSealer : IDisposable
{
    /// <summary>Bytes the tag adds to each sealed value.</summary>
    public const int TagBytes = 16;
    private const int NonceBytes = 12;
    private const int AdBytes = 32;

    // The key (pinned, so that no copy is left behind by the GC; zeroed on dispose).
    private readonly byte[] _key = GC.AllocateArray<byte>(32, pinned: true);
    // The device's random identity (the first 16 bytes of the associated data).
    private readonly byte[] _deviceId = new byte[16];
    // The swap type, in the associated data.
    private readonly int _type;
    // One context per thread (AesGcm instances are not shared between threads).
    private readonly ThreadLocal<AesGcm> _aes;

    /// <summary>A sealer with a new random key, for swap type <paramref name="type"/>.</summary>
    public PageSealer(int type)
    {
        RandomNumberGenerator.Fill(_key);
        RandomNumberGenerator.Fill(_deviceId);
        _type = type;
        _aes = new ThreadLocal<AesGcm>(() => new AesGcm(_key, TagBytes), trackAllValues: true);
    }

    /// <summary>Bytes of the sealed value of <paramref name="plainBytes"/> bytes.</summary>
    public static int SealedLength(int plainBytes) => plainBytes + TagBytes;

    /// <summary>Seals <paramref name="plain"/> (a page or a compressed object) as write <paramref name="generation"/> of <paramref name="slot"/> into <paramref name="sealedValue"/> (ciphertext, then the tag).</summary>
    public void Seal(ReadOnlySpan<byte> plain, Span<byte> sealedValue, int slot, uint generation)
    {
        Span<byte> nonce = stackalloc byte[NonceBytes];
        Span<byte> ad = stackalloc byte[AdBytes];
        Identity(nonce, ad, slot, generation, plain.Length);
        _aes.Value!.Encrypt(nonce, plain, sealedValue[..plain.Length], sealedValue.Slice(plain.Length, TagBytes), ad);
    }

    /// <summary>
    /// Opens a sealed value into <paramref name="plain"/>, which must be exactly as long as what was sealed. False when
    /// it does not authenticate as write <paramref name="generation"/> of <paramref name="slot"/> (plain is then cleared).
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> sealedValue, Span<byte> plain, int slot, uint generation)
    {
        if (sealedValue.Length != plain.Length + TagBytes) return false;
        Span<byte> nonce = stackalloc byte[NonceBytes];
        Span<byte> ad = stackalloc byte[AdBytes];
        Identity(nonce, ad, slot, generation, plain.Length);
        try
        {
            _aes.Value!.Decrypt(nonce, sealedValue[..plain.Length], sealedValue.Slice(plain.Length, TagBytes), plain, ad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            plain.Clear();
            return false;
        }
    }

    private void Identity(Span<byte> nonce, Span<byte> ad, int slot, uint generation, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(nonce, slot);
        BinaryPrimitives.WriteUInt32LittleEndian(nonce[4..], generation);
        nonce[8..].Clear();
        _deviceId.CopyTo(ad);
        BinaryPrimitives.WriteInt32LittleEndian(ad[16..], _type);
        BinaryPrimitives.WriteInt32LittleEndian(ad[20..], slot);
        BinaryPrimitives.WriteUInt32LittleEndian(ad[24..], generation);
        BinaryPrimitives.WriteInt32LittleEndian(ad[28..], length);
    }

    public void Dispose()
    {
        foreach (AesGcm a in _aes.Values) a.Dispose();
        _aes.Dispose();
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_key.AsSpan()));
    }
}
