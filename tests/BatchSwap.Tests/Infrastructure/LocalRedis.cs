using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace BatchSwap.Tests.Infrastructure;

/// <summary>
/// Real Redis servers on loopback for the far-memory tests, started from the redis-server on PATH (Debian's package:
/// .ci/run installs it) in a temporary directory, on free ports, without persistence, and killed on dispose. If the
/// server cannot be started, construction throws and says why: the tests that need it fail, none is skipped.
/// </summary>
public sealed class LocalRedis : IDisposable
{
    /// <summary>One redis-server process.</summary>
    public sealed class Node(int port, Process process)
    {
        /// <summary>Its port on 127.0.0.1.</summary>
        public int Port { get; } = port;
        /// <summary>The process.</summary>
        public Process Process { get; } = process;
        /// <summary>"127.0.0.1:port".</summary>
        public string Endpoint => $"127.0.0.1:{Port}";
    }

    // Where the servers' logs and cluster files go.
    private readonly string _dir = Directory.CreateTempSubdirectory("batchswap-redis-").FullName;
    // Every server started, to kill on dispose.
    private readonly List<Node> _all = new();
    private readonly object _lock = new();

    /// <summary>Finds redis-server and redis-cli, or throws with what to install.</summary>
    public LocalRedis()
    {
        ServerPath = Which("redis-server");
        CliPath = Which("redis-cli");
    }

    /// <summary>Path of redis-server.</summary>
    public string ServerPath { get; }
    /// <summary>Path of redis-cli.</summary>
    public string CliPath { get; }

    private static string Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException($"{name} was not found on PATH: the far-memory tests run a real Redis Cluster on loopback. " +
            "Install it with 'apt-get install -y redis-server' (as .ci/run does).");
    }

    /// <summary>Starts one server (a cluster node unless <paramref name="cluster"/> is false) and waits until it answers.</summary>
    public Node StartServer(bool cluster, string? password = null)
    {
        int port = FreePort(), bus = FreePort();
        var args = new List<string>
        {
            "--port", port.ToString(), "--bind", "127.0.0.1", "--protected-mode", "no", "--daemonize", "no",
            "--dir", _dir, "--logfile", Path.Combine(_dir, $"{port}.log"), "--save", "", "--appendonly", "no",
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
        };
        if (cluster)
        {
            args.AddRange([
                "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, $"nodes-{port}.conf"),
                "--cluster-port", bus.ToString(), "--cluster-node-timeout", "1000",
                // Losing a master leaves the others serving their hash slots (the default stops the whole cluster).
                "--cluster-require-full-coverage", "no", "--cluster-replica-validity-factor", "0",
            ]);
        }
        if (password is not null) args.AddRange(["--requirepass", password]);
        var psi = new ProcessStartInfo(ServerPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process p = Process.Start(psi) ?? throw new InvalidOperationException($"{ServerPath} did not start");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var node = new Node(port, p);
        lock (_lock) _all.Add(node);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (p.HasExited)
                throw new InvalidOperationException($"redis-server on port {port} exited with code {p.ExitCode}: {Log(port)}");
            if (Cli(port, password, "PING").Contains("PONG", StringComparison.Ordinal)) return node;
            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
                throw new InvalidOperationException($"redis-server on port {port} did not answer PING within 15 s: {Log(port)}");
            Thread.Sleep(20);
        }
    }

    /// <summary>
    /// Starts <paramref name="masters"/> cluster nodes (and <paramref name="replicasPerMaster"/> replicas of each),
    /// joins them with redis-cli --cluster create, and waits until every node reports cluster_state:ok (and every
    /// replica is in sync).
    /// </summary>
    public Cluster StartCluster(int masters, int replicasPerMaster = 0)
    {
        var nodes = new List<Node>();
        for (int i = 0; i < masters * (1 + replicasPerMaster); i++) nodes.Add(StartServer(cluster: true));
        var args = new List<string> { "--cluster", "create" };
        args.AddRange(nodes.Select(n => n.Endpoint));
        args.AddRange(["--cluster-replicas", replicasPerMaster.ToString(), "--cluster-yes"]);
        (int code, string output) = Run(CliPath, args, TimeSpan.FromSeconds(60));
        if (code != 0) throw new InvalidOperationException($"redis-cli --cluster create failed ({code}): {output}");
        var cluster = new Cluster(this, nodes);
        cluster.WaitUntilOk(TimeSpan.FromSeconds(30), replicasPerMaster);
        return cluster;
    }

    /// <summary>A cluster started by <see cref="StartCluster"/>.</summary>
    public sealed class Cluster(LocalRedis owner, List<Node> nodes)
    {
        /// <summary>Every node, masters and replicas.</summary>
        public IReadOnlyList<Node> Nodes { get; } = nodes;

        /// <summary>The seed endpoints ("127.0.0.1:port", all nodes).</summary>
        public IReadOnlyList<string> Endpoints => Nodes.Select(n => n.Endpoint).ToArray();

        /// <summary>The nodes that serve hash slots now, with their slot ranges, from CLUSTER NODES on a live node.</summary>
        public List<(Node Node, List<(int From, int To)> Slots)> Masters()
        {
            string text = owner.Cli(Nodes.First(n => !n.Process.HasExited).Port, null, "CLUSTER", "NODES");
            var result = new List<(Node, List<(int, int)>)>();
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                string[] f = line.Split(' ');
                if (f.Length < 8 || !f[2].Contains("master", StringComparison.Ordinal) || f[2].Contains("fail", StringComparison.Ordinal)) continue;
                int port = int.Parse(f[1].Split('@')[0].Split(':')[1]);
                Node? node = Nodes.FirstOrDefault(n => n.Port == port);
                if (node is null) continue;
                var slots = new List<(int, int)>();
                foreach (string range in f.Skip(8))
                {
                    if (range.StartsWith('[')) continue;
                    string[] ab = range.Split('-');
                    slots.Add((int.Parse(ab[0]), int.Parse(ab[^1])));
                }
                if (slots.Count > 0) result.Add((node, slots));
            }
            return result;
        }

        /// <summary>Kills a node at once (SIGKILL), as a machine that dies.</summary>
        public void Kill(Node node)
        {
            node.Process.Kill();
            node.Process.WaitForExit();
        }

        /// <summary>Waits until every live node says cluster_state:ok and, with replicas, every master has them online.</summary>
        public void WaitUntilOk(TimeSpan timeout, int replicasPerMaster = 0, int? masters = null)
        {
            var sw = Stopwatch.StartNew();
            string last = "";
            while (sw.Elapsed < timeout)
            {
                bool ok = true;
                foreach (Node n in Nodes.Where(n => !n.Process.HasExited))
                {
                    last = owner.Cli(n.Port, null, "CLUSTER", "INFO");
                    if (!last.Contains("cluster_state:ok", StringComparison.Ordinal)) { ok = false; break; }
                }
                if (ok && masters is int m && Masters().Count != m) ok = false;
                if (ok && replicasPerMaster > 0)
                {
                    foreach ((Node master, _) in Masters())
                    {
                        string repl = owner.Cli(master.Port, null, "INFO", "replication");
                        int online = repl.Split('\n').Count(l => l.StartsWith("slave", StringComparison.Ordinal) && l.Contains("state=online", StringComparison.Ordinal));
                        if (online < replicasPerMaster) { ok = false; last = repl; break; }
                    }
                }
                if (ok) return;
                Thread.Sleep(100);
            }
            throw new InvalidOperationException($"the local Redis Cluster did not become ok within {timeout.TotalSeconds} s: {last}");
        }

        /// <summary>Keys matching <paramref name="pattern"/> on every live master (SCAN).</summary>
        public long CountKeys(string pattern)
        {
            using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect(new ConfigurationOptions
            {
                EndPoints = { Nodes.First(n => !n.Process.HasExited).Endpoint },
                AbortOnConnectFail = false,
                ConnectTimeout = 3000,
            });
            long n = 0;
            foreach (IServer s in mux.GetServers())
                if (s.IsConnected && !s.IsReplica) n += s.Keys(pattern: pattern, pageSize: 1000).LongCount();
            return n;
        }
    }

    /// <summary>Runs redis-cli against one server; returns what it printed (errors included).</summary>
    public string Cli(int port, string? password, params string[] command)
    {
        var args = new List<string> { "-h", "127.0.0.1", "-p", port.ToString() };
        if (password is not null) args.AddRange(["-a", password, "--no-auth-warning"]);
        args.AddRange(command);
        return Run(CliPath, args, TimeSpan.FromSeconds(10)).Output;
    }

    private static (int Code, string Output) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> o = p.StandardOutput.ReadToEndAsync(), e = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill();
            return (-1, $"{file} timed out after {timeout.TotalSeconds} s");
        }
        return (p.ExitCode, o.Result + e.Result);
    }

    private string Log(int port)
    {
        string path = Path.Combine(_dir, $"{port}.log");
        return File.Exists(path) ? string.Join(" | ", File.ReadLines(path).TakeLast(5)) : "(no log)";
    }

    /// <summary>A TCP port nothing listens on now.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (Node n in _all)
            {
                try
                {
                    if (!n.Process.HasExited) { n.Process.Kill(); n.Process.WaitForExit(5000); }
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
                n.Process.Dispose();
            }
            _all.Clear();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The servers every far-memory test shares, started once: a three-master cluster, and a single password-protected
/// server (not a cluster) for the configuration errors. Tests that kill nodes start their own cluster through
/// <see cref="Redis"/>.
/// </summary>
public sealed class RedisFixture : IDisposable
{
    /// <summary>The password of <see cref="Standalone"/>.</summary>
    public const string StandalonePassword = "batchswap-test";

    public RedisFixture()
    {
        Redis = new LocalRedis();
        try
        {
            Cluster = Redis.StartCluster(masters: 3);
            Standalone = Redis.StartServer(cluster: false, password: StandalonePassword);
        }
        catch
        {
            Redis.Dispose();
            throw;
        }
    }

    /// <summary>The server launcher (for tests that need their own cluster).</summary>
    public LocalRedis Redis { get; }

    /// <summary>Three masters, no replicas; no test kills its nodes.</summary>
    public LocalRedis.Cluster Cluster { get; }

    /// <summary>One server, not in cluster mode, with <see cref="StandalonePassword"/>.</summary>
    public LocalRedis.Node Standalone { get; }

    public void Dispose() => Redis.Dispose();
}

/// <summary>The far-memory tests: one set of servers for all of them, and not run beside each other.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
