/// A host-side problem with what the user asked for. The description is the
/// whole one-line message `bench` prints on stderr before exiting non-zero.
public struct UsageError: Error, CustomStringConvertible {
    /// The message.
    public let description: String
    /// Makes an error with `message`.
    public init(_ message: String) { description = message }
}
