namespace BatchSwap.Tunables;

/// <summary>Thrown when a tunable is unknown or is given a value outside what it accepts. The message names the accepted values.</summary>
public sealed class TunableException : ArgumentException
{
    /// <summary>Creates the exception with a message naming the tunable and its accepted values.</summary>
    public TunableException(string message) : base(message) { }
}
