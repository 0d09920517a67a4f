import NIOCore

/// The buffer a connection writes each message into, kept between messages:
/// once SwiftNIO has written a message, nothing else holds the buffer's
/// storage, and clearing it keeps the memory, so a message's bytes cost no
/// allocation (two per message otherwise: the storage object and its bytes).
/// A message still being written when the next is made is left alone (the
/// next gets new storage). Buffers grown past `maxKept` bytes are not kept.
public struct ReusedWriteBuffer {
    /// The largest buffer kept for the next message.
    public static let maxKept = 16 * 1024
    private var kept: ByteBuffer?

    public init() {}

    /// An empty buffer for the next message, at least `capacity` bytes.
    public mutating func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var buffer = kept.take() else { return allocator.buffer(capacity: capacity) }
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Keeps `buffer` (just handed to a write) for the next message.
    public mutating func keep(_ buffer: ByteBuffer) {
        if buffer.capacity <= Self.maxKept { kept = buffer }
    }
}
