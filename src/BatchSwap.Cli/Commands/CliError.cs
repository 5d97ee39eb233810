namespace BatchSwap.Cli.Commands;

/// <summary>Bad input found after parsing: printed as one line, exit code 2.</summary>
internal sealed class CliError(string message) : Exception(message);
