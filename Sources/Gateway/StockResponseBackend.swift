import HTTPTypes
import NIOCore

/// `STOCK_RESPONSE_BACKEND`: answers every request with a fixed `status`,
/// `body` and `headers` (`[{"name": ..., "value": ...}]`).
struct StockResponseBackendPlugin: ContextualBackendPlugin {
    let type = "STOCK_RESPONSE_BACKEND"

    func makeBackend(_ backend: JSONValue, path: String, context: BackendBuildContext) async throws(SpecValidationError) -> any GatewayBackend {
        var reader = SpecReader()
        let object = reader.object(backend, path, required: true) ?? [:]
        let status = reader.integer(object, "status", path, required: true)
        if let status, !(100...599).contains(status) {
            reader.problem(SpecReader.join(path, "status"), "must be an HTTP status from 100 to 599, not \(status)")
        }
        let body = reader.string(object, "body", path)
        var fields = HTTPFields()
        for (header, headerPath, _) in reader.objects(object, "headers", path) ?? [] {
            let name = reader.string(header, "name", headerPath, required: true)
            let value = reader.string(header, "value", headerPath) ?? ""
            guard let name else { continue }
            guard let fieldName = HTTPField.Name(name) else {
                reader.problem(SpecReader.join(headerPath, "name"), "\"\(name)\" is not a valid header name")
                continue
            }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        guard reader.problems.isEmpty, let status else { throw SpecValidationError(problems: reader.problems) }
        return StockResponseBackend(response: GatewayResponse(status: HTTPResponse.Status(code: status), headers: fields,
                                                              body: ByteBuffer(string: body ?? "")))
    }
}

struct StockResponseBackend: GatewayBackend {
    let response: GatewayResponse

    func respond(to request: GatewayRequest) async -> GatewayResponse { response }
}
