using BatchSwap.Cli.Commands;
using BatchSwap.Swap.Backends.Redis;
using BatchSwap.Tests.Infrastructure;

namespace BatchSwap.Tests.Cli;

/// <summary><c>--swap-device SPEC</c>: what it accepts, and one clear line for what it does not.</summary>
public sealed class SwapDeviceSpecTests
{
    [Fact]
    public void FileAndRedisSpecsParseWithTheirSettings()
    {
        SwapDeviceSpec f = SwapDeviceSpec.Parse("file:/tmp/swap.img?prio=5&size=64MiB");
        Assert.Equal("/tmp/swap.img", f.Path);
        Assert.Equal(5, f.Priority);
        Assert.Equal(64L << 20, f.CapacityBytes);
        Assert.Null(f.Redis);

        SwapDeviceSpec r = SwapDeviceSpec.Parse("redis://10.0.0.1:7000,10.0.0.2:7000?prio=-1&password=s%26cret&tls=true&ttl=10m&timeout=250ms&retries=2&replicas=1&tier=host-a");
        Assert.Null(r.Path);
        Assert.Equal(-1, r.Priority);
        RedisSwapOptions o = r.Redis!;
        Assert.Equal(["10.0.0.1:7000", "10.0.0.2:7000"], o.Endpoints);
        Assert.Equal("s&cret", o.Password);
        Assert.True(o.Tls && o.Cluster);
        Assert.Equal(TimeSpan.FromMinutes(10), o.KeyTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.OperationTimeout);
        Assert.Equal(2, o.Retries);
        Assert.Equal(1, o.ReplicaAcks);
        Assert.Equal("host-a", o.TierId);

        RedisSwapOptions u = SwapDeviceSpec.Parse("redis://app:pw@[::1]:6379?cluster=false").Redis!;
        Assert.Equal("app", u.User);
        Assert.Equal("pw", u.Password);
        Assert.False(u.Cluster);
    }

    [Theory]
    [InlineData("nfs:/x", "must start with file: or redis://")]
    [InlineData("file:", "needs a path")]
    [InlineData("file:/x?prio=high", "prio must be a whole number")]
    [InlineData("file:/x?prio=40000", "prio must be in [-1, 32767]")]
    [InlineData("file:/x?ttl=1h", "file devices take prio and size")]
    [InlineData("redis://host", "endpoint 'host' must be host:port")]
    [InlineData("redis://host:99999", "must end in a port in [1, 65535]")]
    [InlineData("redis://h:1?colour=red", "unknown setting 'colour'")]
    [InlineData("redis://h:1?ttl=1s", "KeyTtl must be in [10 s")]
    [InlineData("redis://h:1?timeout=soon", "timeout must be a duration")]
    [InlineData("redis://h:1?retries=99", "Retries must be in [0, 10]")]
    [InlineData("redis://h:1?tls=maybe", "tls must be true or false")]
    [InlineData("redis://h:1?prio=1&prio=2", "'prio' is given twice")]
    public void ABadSpecIsOneLineNamingWhatIsWrong(string spec, string expected)
    {
        var e = Assert.Throws<CliError>(() => SwapDeviceSpec.Parse(spec));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void APasswordNeverShowsInAnError()
    {
        var e = Assert.Throws<CliError>(() => SwapDeviceSpec.Parse("redis://u:hunter2@h:1?password=hunter3&colour=red"));
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.DoesNotContain("hunter3", e.Message);
    }

    [Fact]
    public void UsememRefusesABadSpecAndMixingWithSwapDevicesWithExitCode2()
    {
        (int code, _, string err) = CliHarness.Run("usemem", "--size", "8MiB", "--workers", "1", "--swap-device", "tape:/dev/st0");
        Assert.Equal(2, code);
        Assert.Contains("--swap-device 'tape:/dev/st0': must start with file: or redis://", err);
        (code, _, err) = CliHarness.Run("usemem", "--size", "8MiB", "--workers", "1", "--swap-devices", "2", "--swap-device", "file:/tmp/x");
        Assert.Equal(2, code);
        Assert.Contains("not both", err);
    }
}

/// <summary><c>batchswap usemem --swap-device redis://…</c> on the local cluster.</summary>
[Collection(RedisCollection.Name)]
public sealed class SwapDeviceCliTests(RedisFixture redis)
{
    [Fact]
    public void UsememRunsWithTheClusterAsItsOnlySwapDeviceAndReportsTheWire()
    {
        string seeds = string.Join(',', redis.Cluster.Endpoints.Take(2));
        (int code, string output, string err) = CliHarness.Run("usemem", "--size", "24MiB", "--workers", "2", "--limit", "16MiB", "--passes", "1",
            "--engines", "1", "--set", "zswap.max_pool_percent=10", "--swap-device", $"redis://{seeds}?ttl=5m", "--quiet");
        Assert.True(code == 0, err + output);
        Assert.Contains("mismatches 0", output);
    }

    [Fact]
    public void AnUnreachableClusterIsOneLineAndExitCode2()
    {
        int port = LocalRedis.FreePort();
        (int code, _, string err) = CliHarness.Run("usemem", "--size", "8MiB", "--workers", "1", "--limit", "16MiB", "--swap-device", $"redis://127.0.0.1:{port}?connect-timeout=300ms");
        Assert.Equal(2, code);
        Assert.Contains("no seed node answered", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void AServerNotInClusterModeIsOneLineAndExitCode2()
    {
        (int code, _, string err) = CliHarness.Run("usemem", "--size", "8MiB", "--workers", "1",
            "--swap-device", $"redis://{redis.Standalone.Endpoint}?password={RedisFixture.StandalonePassword}");
        Assert.Equal(2, code);
        Assert.Contains("not in cluster mode", err);
        Assert.DoesNotContain(RedisFixture.StandalonePassword, err);
    }
}
