import HTTP1Wire
import NIOCore

/// The HTTP/1.1 bytes of a call to an FDK, written as one buffer: the
/// request line, the call's headers (its own `Fn-Call-Id`, `Fn-Deadline`,
/// `Content-Length` and `Host` replaced), the caller's headers as
/// `Fn-Http-H-<name>`, then the body. A header whose
/// name is not a token or whose value holds a CR, LF or NUL is not sent:
/// the gateway's and the API's headers never do (HTTPTypes checks them),
/// and nothing a library caller passes can add a line to the request.
enum FDKRequestEncoder {
    static func encode(_ request: FDKRequest, into out: inout ByteBuffer) {
        out.writeStaticString("POST /call HTTP/1.1\r\n")
        for (name, value) in request.headers where !isReplaced(name) && isSendableField(name: name, value: value) {
            writeField(name, value, into: &out)
        }
        for (name, value) in request.clientHeaders where isSendableField(name: name, value: value) {
            out.writeStaticString("Fn-Http-H-")
            writeField(name, value, into: &out)
        }
        out.writeStaticString("Fn-Call-Id: ")
        out.writeString(request.callID)
        out.writeStaticString("\r\nFn-Deadline: ")
        CallHeaders.writeDeadline(request.deadline, into: &out)
        out.writeStaticString("\r\nContent-Length: ")
        out.writeString(String(request.body.readableBytes))
        out.writeStaticString("\r\nHost: localhost\r\n\r\n")
        var body = request.body
        out.writeBuffer(&body)
    }

    /// `<name>: <value>` and the line's end.
    private static func writeField(_ name: String, _ value: String, into out: inout ByteBuffer) {
        out.writeString(name)
        out.writeStaticString(": ")
        out.writeString(value)
        out.writeStaticString("\r\n")
    }

    private static func isReplaced(_ name: String) -> Bool {
        switch name.utf8.count {
        case 10: equalIgnoringCase(name.utf8, "fn-call-id")
        case 11: equalIgnoringCase(name.utf8, "fn-deadline")
        case 14: equalIgnoringCase(name.utf8, "content-length")
        case 4: equalIgnoringCase(name.utf8, "host")
        default: false
        }
    }
}
