using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;

namespace BatchSwap.Tests.Packaging;

/// <summary>
/// Packs the library and the tool from the build the tests ran on (<c>dotnet pack --no-build</c>), checks their
/// metadata, installs the tool from the local folder alone (a nuget.config that clears every other source, so it runs
/// offline) and runs <c>batchswap --version</c>. <c>bench/pack-check.sh</c> does the same from a clean build and also
/// draws a plot with the installed tool.
/// </summary>
public sealed class PackageTests : IDisposable
{
    // Packages, the nuget.config and the installed tool.
    private readonly string _dir = Directory.CreateTempSubdirectory("bs-pack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void LibraryAndToolPackAndTheToolInstallsFromALocalFolder()
    {
        string root = RepositoryRoot();
        string configuration = typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        string packages = Path.Combine(_dir, "packages");
        foreach (string project in new[] { "src/BatchSwap/BatchSwap.csproj", "src/BatchSwap.Cli/BatchSwap.Cli.csproj" })
        {
            Dotnet(root, "pack", Path.Combine(root, project), "-c", configuration, "--no-build", "-o", packages, "-nodeReuse:false");
        }

        string version = typeof(MemoryTier).Assembly.GetName().Version!.ToString(3);
        XElement lib = Nuspec(Path.Combine(packages, $"BatchSwap.{version}.nupkg"), out string[] libFiles);
        Assert.Equal("BatchSwap", Meta(lib, "id"));
        Assert.Equal("MIT", Meta(lib, "license"));
        Assert.Equal("BatchSwap contributors", Meta(lib, "authors"));
        Assert.Equal("package-readme.md", Meta(lib, "readme"));
        Assert.Contains("zswap", Meta(lib, "tags"));
        Assert.DoesNotContain("Package Description", Meta(lib, "description"));
        Assert.Contains("lib/net10.0/BatchSwap.dll", libFiles);
        Assert.Contains("lib/net10.0/BatchSwap.xml", libFiles);
        Assert.Contains("package-readme.md", libFiles);
        Assert.True(File.Exists(Path.Combine(packages, $"BatchSwap.{version}.snupkg")), "no symbol package");

        string toolPackage = Path.Combine(packages, $"BatchSwap.Cli.{version}.nupkg");
        XElement tool = Nuspec(toolPackage, out string[] toolFiles);
        Assert.Equal("DotnetTool", tool.Descendants().First(e => e.Name.LocalName == "packageType").Attribute("name")!.Value);
        Assert.Contains("tools/net10.0/any/BatchSwap.Cli.dll", toolFiles);
        // Natives for linux-x64 and linux-arm64 only: the other 15 platforms' SkiaSharp/HarfBuzz libraries stay out.
        string[] rids = toolFiles.Where(f => f.Contains("/runtimes/", StringComparison.Ordinal))
            .Select(f => f.Split("/runtimes/")[1].Split('/')[0]).Distinct().Order().ToArray();
        Assert.Equal(["linux-arm64", "linux-x64"], rids);
        Assert.InRange(new FileInfo(toolPackage).Length, 1, 20L << 20);

        string config = Path.Combine(_dir, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        string tools = Path.Combine(_dir, "tools");
        Dotnet(_dir, "tool", "install", "--tool-path", tools, "--configfile", config, "BatchSwap.Cli", "--version", version);
        (int code, string output) = Start(Path.Combine(tools, "batchswap"), _dir, "--version");
        Assert.True(code == 0, output);
        Assert.StartsWith(version, output.Trim());
    }

    /// <summary>The folder holding BatchSwap.slnx, above the test assembly.</summary>
    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "BatchSwap.slnx"))) return d.FullName;
        }

        throw new DirectoryNotFoundException("BatchSwap.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The package's nuspec and the paths of its files.</summary>
    private static XElement Nuspec(string package, out string[] files)
    {
        Assert.True(File.Exists(package), $"{package} was not created");
        using ZipArchive zip = ZipFile.OpenRead(package);
        files = zip.Entries.Select(e => e.FullName).ToArray();
        using Stream s = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        return XElement.Load(s);
    }

    private static string Meta(XElement nuspec, string name) =>
        nuspec.Descendants().First(e => e.Name.LocalName == name).Value;

    private static void Dotnet(string workingDirectory, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";
        (int code, string output) = Start(dotnet, workingDirectory, args);
        Assert.True(code == 0, $"dotnet {string.Join(' ', args)} exited {code}:\n{output}");
    }

    private static (int Code, string Output) Start(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            return (-1, output + err.Result + "\n(timed out)");
        }

        return (p.ExitCode, output + err.Result);
    }
}
