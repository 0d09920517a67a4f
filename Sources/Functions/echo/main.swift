#if canImport(Glibc)
import Glibc
#endif
import FDK

// Echoes the body, and describes the call in response headers. With
// `X-Echo-Log-Bytes: N`, it first writes N bytes of output to standard
// error, in lines of 100 bytes, then `echo: logged N bytes`. With
// `X-Echo-Allocate-MB: N`, it first allocates and touches N MB (and keeps them).
FDK.serve { request in
    var headers = ["Content-Type": request.headers["content-type"] ?? "application/octet-stream",
                   "X-Echo-Call-Id": request.callID, "X-Echo-Deadline": request.deadline]
    if let method = request.method { headers["X-Echo-Method"] = method }
    if let url = request.requestURL { headers["X-Echo-Url"] = url }
    for (name, value) in request.headers where name.hasPrefix("x-") { headers["X-Echo-H-\(name)"] = value }
    let environment = Environment()
    for name in ["FN_APP_NAME", "FN_FN_NAME", "FN_MEMORY", "FN_FORMAT"] { headers["X-Echo-Env-\(name)"] = environment[name] ?? "" }
    if let bytes = request.headers["x-echo-log-bytes"].flatMap({ Int($0) }) { log(bytes) }
    if let megabytes = request.headers["x-echo-allocate-mb"].flatMap({ Int($0) }) { allocate(megabytes) }
    return FunctionResponse(status: 200, headers: headers, body: request.body)
}

func log(_ bytes: Int) {
    let line = Array(String(repeating: "o", count: 99).utf8) + [10]
    for _ in 0..<bytes / line.count { _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) } }
    let last = "echo: logged \(bytes) bytes\n"
    _ = last.withCString { write(2, $0, strlen($0)) }
}

/// Allocates and touches `megabytes` MB, never freed: past the container's limit, the kernel kills it.
func allocate(_ megabytes: Int) {
    for _ in 0..<megabytes {
        guard let block = malloc(1 << 20) else { return }
        memset(block, 1, 1 << 20)
    }
}
