import Foundation
import Gateway
import HTTP1Wire
import HTTPTypes
import NIOCore
import Runtime

/// Fn's HTTP-trigger mapping (shared/contracts/fn-fdk.md) between an HTTP
/// request and a function call, both ways.
public enum HTTPTrigger {
    /// Headers that never pass between a client and a function: hop-by-hop
    /// ones, `Proxy-Authorization`, and the length, which each side sets itself.
    static func isDropped(_ name: String) -> Bool {
        isConnectionField(name) || (name.utf8.count == 19 && equalIgnoringCase(name.utf8, "proxy-authorization"))
    }

    /// True for a client header the function may see: not hop-by-hop, and
    /// not `Fn-*`, so a caller cannot forge what the runtime sets.
    static func forwards(_ field: HTTPField) -> Bool {
        !field.name.canonicalName.hasPrefix("fn-") && !isDropped(field.name.canonicalName)
    }

    /// The call for `request`: `Fn-Intent: httprequest`, the method, the URI
    /// as received, every header but `Content-Type` as `Fn-Http-H-<Name>`.
    /// Client headers that start with `Fn-` are dropped, so a caller cannot
    /// forge what the runtime sets.
    public static func call(for request: GatewayRequest, deadline: Date) -> FDKRequest {
        var headers: [(String, String)] = [
            ("Fn-Intent", "httprequest"),
            ("Fn-Http-Method", request.method.rawValue),
            ("Fn-Http-Request-Url", request.uri),
        ]
        var clientHeaders: [(String, String)] = []
        clientHeaders.reserveCapacity(request.headers.count)
        for field in request.headers where forwards(field) {
            if field.name == .contentType {
                headers.append(("Content-Type", field.value))
            } else {
                clientHeaders.append((field.name.rawName, field.value))  // sent as Fn-Http-H-<name>
            }
        }
        return FDKRequest(deadline: deadline, headers: headers, clientHeaders: clientHeaders, body: request.body)
    }

    /// The call for Fn's `POST /invoke/{fnID}`: the client's headers as they
    /// are (no HTTP-trigger wrapping), less hop-by-hop and `Fn-` ones, and
    /// less `Authorization`, which holds the runtime's API token.
    public static func invokeCall(headers fields: HTTPFields, body: ByteBuffer, deadline: Date) -> FDKRequest {
        var headers: [(String, String)] = []
        for field in fields where forwards(field) && field.name != .authorization {
            headers.append((field.name.rawName, field.value))
        }
        return FDKRequest(deadline: deadline, headers: headers, body: body)
    }

    /// The caller's response for a call's result: the function's status and
    /// headers (already mapped from `Fn-Http-*` by the runtime), a
    /// `Retry-After` on 503, and the body.
    public static func response(for result: InvocationResult) -> GatewayResponse {
        var headers = HTTPFields()
        headers.reserveCapacity(result.headers.count + 4)
        for (name, value) in result.headers {
            guard !isDropped(name), let field = HTTPField.Name(name) else { continue }
            headers.append(HTTPField(name: field, value: value))
        }
        return GatewayResponse(status: HTTPResponse.Status(code: result.status), headers: headers, body: result.body)
    }
}
