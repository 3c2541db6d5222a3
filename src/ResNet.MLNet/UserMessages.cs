namespace ResNet.MLNet;

/// <summary>Exception messages as users read them: without .NET's suffixes for developers.</summary>
internal static class UserMessages
{
    /// <summary>
    /// <paramref name="e"/>'s message without " (Parameter 'name')" and "Actual value was ..." — what a user can act on,
    /// also where the message is quoted inside another (an image decoder's ArgumentException inside "not an image").
    /// </summary>
    public static string Of(Exception e)
    {
        string message = e.Message;
        if (e is ArgumentOutOfRangeException { ActualValue: not null }
            && message.LastIndexOf(Environment.NewLine + "Actual value was", StringComparison.Ordinal) is var actual and >= 0)
            message = message[..actual];
        if (e is ArgumentException { ParamName: { } name } && message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal))
            message = message[..^$" (Parameter '{name}')".Length];
        return message;
    }
}
