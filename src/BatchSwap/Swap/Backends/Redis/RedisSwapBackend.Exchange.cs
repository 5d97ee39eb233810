using System.Buffers;
using BatchSwap.Stats;
using StackExchange.Redis;

namespace BatchSwap.Swap.Backends.Redis;

internal sealed partial class RedisSwapBackend
{
    /// <summary>Where a part of a batch stands.</summary>
    private enum PartStatus : byte
    {
        /// <summary>Not sent yet, or to be sent again (it timed out or lost its connection).</summary>
        Pending,
        /// <summary>Moved.</summary>
        Ok,
        /// <summary>Failed for good (or out of attempts): its pages fail.</summary>
        Failed,
    }

    /// <summary>The pages of one run that share a hash key: one HSET (and PEXPIRE) or one HMGET.</summary>
    private struct Part
    {
        /// <summary>The run, and the index of the part's first page in the batch.</summary>
        public int Run, FirstPage;
        /// <summary>Pages, and the first one's slot.</summary>
        public int Count, Slot;
        /// <summary>The node serving the key (by the topology's map when it was split; null when none serves it).</summary>
        public System.Net.EndPoint? Node;
        /// <summary>The key, and its length in bytes.</summary>
        public RedisKey Key;
        public int KeyBytes;
        /// <summary>The slots' cluster state (generations).</summary>
        public ClusterState State;
        /// <summary>A write's fields and sealed values.</summary>
        public HashEntry[]? Entries;
        /// <summary>A read's fields.</summary>
        public RedisValue[]? Fields;
        /// <summary>The commands of the last attempt: HSET or HMGET, and a write's PEXPIRE.</summary>
        public Task? Main, Expire;
        /// <summary>RESP bytes of the part's commands and (for writes) of their replies.</summary>
        public int SendBytes, ReplyBytes;
        public PartStatus Status;
    }

    /// <summary>
    /// One submitted batch on its way: split into parts by hash key, sealed, sent as one pipelined batch (one round
    /// trip per node) and sent again in part while attempts are left, then opened (reads) and completed run by run,
    /// each page failing alone.
    /// </summary>
    private sealed class Exchange(RedisSwapBackend owner, SwapIoBatch batch)
    {
        private Part[] _parts = new Part[Math.Max(4, batch.RunCount * 2)];
        private int _count;
        // Sealed values of a write, back to back (rented).
        private byte[]? _buffer;
        // Every command issued, to know when the buffer is free again.
        private readonly List<Task> _issued = new();
        // Set when something threw: every run fails.
        private bool _broken;

        public async Task RunAsync()
        {
            try
            {
                Split();
                if (batch.Kind == SwapIoKind.Write) Seal();
                int retries = owner._options.Retries;
                for (int attempt = 0; ; attempt++)
                {
                    Task all = Issue(out TimeSpan guard);
                    try
                    {
                        await all.WaitAsync(guard).ConfigureAwait(false);
                    }
                    catch (Exception)
                    {
                        // Each part's own task says what happened to it.
                    }
                    int again = Classify(lastAttempt: attempt == retries);
                    if (again == 0) break;
                    owner._counters.Add(Counter.SwapRemoteRetries, again);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, 20 << attempt))).ConfigureAwait(false);
                }
                if (batch.Kind == SwapIoKind.Read) Open();
            }
            catch (Exception)
            {
                _broken = true; // a bug here must not leave the batch incomplete, nor pass for data
            }
            finally
            {
                Finish();
            }
        }

        // ---------------------------------------------------------------- split and seal

        /// <summary>Cuts every run where its slots cross from one 64-slot group (hash key) to the next.</summary>
        private void Split()
        {
            for (int r = 0; r < batch.RunCount; r++)
            {
                ref SwapIoRun run = ref batch.Runs[r];
                int slot = run.Slot, left = run.PageCount, page = run.FirstPage;
                while (left > 0)
                {
                    int take = Math.Min(left, GroupSlots - (slot & (GroupSlots - 1)));
                    ClusterState state = owner._clusters[slot / SwapDevice.ClusterSlots]
                        ?? throw new InvalidOperationException($"slot {slot} was never reserved");
                    int g = (slot % SwapDevice.ClusterSlots) >> GroupShift;
                    if (_count == _parts.Length) Array.Resize(ref _parts, _count * 2);
                    RedisKey key = state.Keys[g];
                    _parts[_count++] = new Part
                    {
                        Run = r,
                        FirstPage = page,
                        Count = take,
                        Slot = slot,
                        Node = owner._topology.EndPointOf(owner._topology.NodeOf(state.HashSlots[g])),
                        Key = key,
                        KeyBytes = ((string)key!).Length,
                        State = state,
                    };
                    slot += take;
                    page += take;
                    left -= take;
                }
            }
            for (int p = 0; p < _count; p++)
            {
                ref Part part = ref _parts[p];
                if (batch.Kind == SwapIoKind.Read)
                {
                    part.Fields = new RedisValue[part.Count];
                    int send = Resp.Header(2 + part.Count) + Resp.Bulk(5) + Resp.Bulk(part.KeyBytes);
                    for (int k = 0; k < part.Count; k++)
                    {
                        int field = (part.Slot + k) & (GroupSlots - 1);
                        part.Fields[k] = field;
                        send += Resp.Bulk(Resp.Digits(field));
                    }
                    part.SendBytes = send;
                }
            }
        }

        /// <summary>Seals every page of a write with its slot's next generation.</summary>
        private unsafe void Seal()
        {
            int total = 0;
            for (int i = 0; i < batch.PageCount; i++) total += PageSealer.SealedLength(batch.Lengths[i]);
            byte[] buffer = _buffer = ArrayPool<byte>.Shared.Rent(total);
            int at = 0;
            long ttlMs = (long)owner._ttl.TotalMilliseconds;
            bool seconds = ttlMs % 1000 == 0;
            int expire = Resp.Header(3) + Resp.Bulk(seconds ? 6 : 7) + Resp.Bulk(Resp.Digits(seconds ? ttlMs / 1000 : ttlMs));
            for (int p = 0; p < _count; p++)
            {
                ref Part part = ref _parts[p];
                part.Entries = new HashEntry[part.Count];
                int send = Resp.Header(2 + 2 * part.Count) + Resp.Bulk(4) + Resp.Bulk(part.KeyBytes);
                for (int k = 0; k < part.Count; k++)
                {
                    int i = part.FirstPage + k, slot = part.Slot + k, len = batch.Lengths[i];
                    ref uint gen = ref part.State.Generation[slot % SwapDevice.ClusterSlots];
                    // The slot's holder is the only writer; a generation is never reused (0 means never written).
                    gen = gen == uint.MaxValue ? 1 : gen + 1;
                    int sealedLength = PageSealer.SealedLength(len);
                    owner._sealer.Seal(new ReadOnlySpan<byte>((void*)batch.Pages[i], len), buffer.AsSpan(at, sealedLength), slot, gen);
                    int field = slot & (GroupSlots - 1);
                    part.Entries[k] = new HashEntry(field, buffer.AsMemory(at, sealedLength));
                    send += Resp.Bulk(Resp.Digits(field)) + Resp.Bulk(sealedLength);
                    at += sealedLength;
                }
                part.SendBytes = send + expire;
                part.ReplyBytes = Resp.Integer(part.Count) + Resp.Integer(1);
            }
        }

        // ---------------------------------------------------------------- send

        /// <summary>
        /// Sends every pending part as one pipelined batch (one write per node) and, for writes with replica
        /// acknowledgement, a WAIT to each node after it. Counts the round trips and bytes. Returns a task for all of
        /// it, and how long to wait for it at most.
        /// </summary>
        private Task Issue(out TimeSpan guard)
        {
            IBatch b = owner._db.CreateBatch();
            _nodes.Clear();
            var tasks = new List<Task>(_count * 2);
            long sent = 0;
            bool write = batch.Kind == SwapIoKind.Write;
            for (int p = 0; p < _count; p++)
            {
                ref Part part = ref _parts[p];
                if (part.Status != PartStatus.Pending) continue;
                if (owner._topology.IsNodeDown(part.Node))
                {
                    // Its node failed a moment ago: fail at once rather than wait for it again (a write's folio stays in
                    // memory or goes to the next device; a read fails loudly); it is tried again after the retry interval.
                    owner._counters.Add(Counter.SwapRemoteNodeDownSkips);
                    owner._topology.AskLayout(); // a replica may have taken its slots over by now
                    part.Status = PartStatus.Failed;
                    continue;
                }
                if (write)
                {
                    part.Main = b.HashSetAsync(part.Key, part.Entries!);
                    part.Expire = b.KeyExpireAsync(part.Key, owner._ttl);
                    tasks.Add(part.Expire);
                }
                else
                {
                    part.Main = b.HashGetAsync(part.Key, part.Fields!);
                }
                tasks.Add(part.Main);
                if (!_nodes.Contains(part.Node)) _nodes.Add(part.Node);
                sent += part.SendBytes;
            }
            b.Execute();
            guard = owner._options.OperationTimeout + TimeSpan.FromSeconds(1);
            int acks = owner._options.ReplicaAcks;
            if (write && acks > 0)
            {
                // WAIT goes on each node's connection after the writes, so it covers them.
                long ms = (long)owner._options.ReplicaTimeout.TotalMilliseconds;
                _waits.Clear();
                foreach (System.Net.EndPoint? ep in _nodes)
                {
                    if (ep is null) continue;
                    Task<RedisResult> w = owner._mux.GetServer(ep).ExecuteAsync("WAIT", acks, ms);
                    _waits[ep] = w;
                    tasks.Add(w);
                    sent += Resp.Header(3) + Resp.Bulk(4) + Resp.Bulk(Resp.Digits(acks)) + Resp.Bulk(Resp.Digits(ms));
                }
                guard += owner._options.ReplicaTimeout;
            }
            owner._counters.Add(Counter.SwapRemoteRoundTrips, _nodes.Count);
            owner._counters.Add(Counter.SwapRemoteBytesSent, sent);
            _issued.AddRange(tasks);
            return Task.WhenAll(tasks);
        }

        // The nodes the last attempt went to (null: a key no master serves); one round trip each.
        private readonly List<System.Net.EndPoint?> _nodes = new(4);
        // The WAITs of the last write attempt, by node.
        private readonly Dictionary<System.Net.EndPoint, Task<RedisResult>> _waits = new();

        /// <summary>Gives each part sent its status from its commands. Returns parts to send again.</summary>
        private int Classify(bool lastAttempt)
        {
            int again = 0;
            long received = 0;
            Counters counters = owner._counters;
            for (int p = 0; p < _count; p++)
            {
                ref Part part = ref _parts[p];
                if (part.Status != PartStatus.Pending) continue;
                Exception? error = ErrorOf(part.Main) ?? ErrorOf(part.Expire);
                bool replicaShort = false;
                if (error is null && part.Node is not null && _waits.TryGetValue(part.Node, out Task<RedisResult>? wait))
                {
                    error = ErrorOf(wait);
                    if (error is null && (long)wait.Result < owner._options.ReplicaAcks) replicaShort = true;
                }
                if (error is null && !replicaShort)
                {
                    part.Status = PartStatus.Ok;
                    received += part.ReplyBytes;
                    continue;
                }
                bool retry;
                if (replicaShort)
                {
                    counters.Add(Counter.SwapRemoteReplicaShort);
                    retry = true;
                }
                else if (error is TimeoutException or RedisTimeoutException)
                {
                    counters.Add(Counter.SwapRemoteTimeouts);
                    owner._topology.NodeFailed(part.Node);
                    retry = true;
                }
                else if (error is RedisConnectionException)
                {
                    counters.Add(Counter.SwapRemoteErrors);
                    owner._topology.NodeFailed(part.Node);
                    retry = true;
                }
                else
                {
                    counters.Add(Counter.SwapRemoteErrors);
                    // A cluster in transition answers so for a while; anything else will not change on a retry.
                    retry = error is RedisServerException s && (s.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
                        || s.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal) || s.Message.StartsWith("LOADING", StringComparison.Ordinal)
                        || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal));
                }
                if (retry && !lastAttempt) again++;
                else part.Status = PartStatus.Failed;
            }
            counters.Add(Counter.SwapRemoteBytesReceived, received);
            return again;
        }

        /// <summary>What went wrong with a command: null when it completed; a timeout when it has not completed yet.</summary>
        private static Exception? ErrorOf(Task? t)
        {
            if (t is null || t.IsCompletedSuccessfully) return null;
            if (!t.IsCompleted || t.IsCanceled) return new TimeoutException("no reply within the guard time");
            return t.Exception!.InnerException ?? t.Exception;
        }

        // ---------------------------------------------------------------- open and finish

        /// <summary>Opens every value read into its page; a value missing or failing authentication fails its page alone.</summary>
        private unsafe void Open()
        {
            long received = 0;
            for (int p = 0; p < _count; p++)
            {
                ref Part part = ref _parts[p];
                if (part.Status != PartStatus.Ok) continue;
                RedisValue[] values = ((Task<RedisValue[]>)part.Main!).Result;
                received += Resp.Header(values.Length);
                for (int k = 0; k < part.Count; k++)
                {
                    int i = part.FirstPage + k, slot = part.Slot + k;
                    RedisValue v = k < values.Length ? values[k] : RedisValue.Null;
                    if (v.IsNull)
                    {
                        received += 5;
                        owner._counters.Add(Counter.SwapRemoteMissing);
                        batch.FailPage(i);
                        continue;
                    }
                    ReadOnlyMemory<byte> sealedValue = v;
                    received += Resp.Bulk(sealedValue.Length);
                    uint gen = Volatile.Read(ref part.State.Generation[slot % SwapDevice.ClusterSlots]);
                    var page = new Span<byte>((void*)batch.Pages[i], batch.Lengths[i]);
                    if (gen == 0 || !owner._sealer.TryOpen(sealedValue.Span, page, slot, gen))
                    {
                        owner._counters.Add(Counter.SwapRemoteAuthFail);
                        batch.FailPage(i);
                    }
                }
            }
            owner._counters.Add(Counter.SwapRemoteBytesReceived, received);
        }

        /// <summary>Fails the pages of parts that did not move, completes every run, and gives the buffer back once no command can still read it.</summary>
        private void Finish()
        {
            if (!_broken)
            {
                for (int p = 0; p < _count; p++)
                {
                    ref Part part = ref _parts[p];
                    if (part.Status == PartStatus.Ok) continue;
                    for (int k = 0; k < part.Count; k++) batch.FailPage(part.FirstPage + k);
                }
            }
            byte[]? buffer = _buffer;
            _buffer = null;
            if (buffer is not null)
            {
                bool busy = false;
                foreach (Task t in _issued) busy |= !t.IsCompleted;
                if (!busy) ArrayPool<byte>.Shared.Return(buffer);
                else _ = Task.WhenAll(_issued).ContinueWith(_ => ArrayPool<byte>.Shared.Return(buffer), TaskScheduler.Default);
            }
            for (int r = 0; r < batch.RunCount; r++) batch.Complete(r, !_broken);
        }
    }

    /// <summary>Sizes of RESP frames, to count the bytes on the wire.</summary>
    private static class Resp
    {
        /// <summary>Decimal digits of a non-negative number.</summary>
        public static int Digits(long n)
        {
            int d = 1;
            while (n >= 10) { n /= 10; d++; }
            return d;
        }

        /// <summary>An array header: *N\r\n.</summary>
        public static int Header(int n) => 1 + Digits(n) + 2;

        /// <summary>A bulk string of <paramref name="len"/> bytes: $LEN\r\n…\r\n.</summary>
        public static int Bulk(int len) => 1 + Digits(len) + 2 + len + 2;

        /// <summary>An integer reply: :N\r\n.</summary>
        public static int Integer(long n) => 1 + Digits(n) + 2;
    }
}
