import FDK

// Echoes the body, and describes the call in response headers.
FDK.serve { request in
    var headers = ["Content-Type": request.headers["content-type"] ?? "application/octet-stream",
                   "X-Echo-Call-Id": request.callID, "X-Echo-Deadline": request.deadline]
    if let method = request.method { headers["X-Echo-Method"] = method }
    if let url = request.requestURL { headers["X-Echo-Url"] = url }
    for (name, value) in request.headers where name.hasPrefix("x-") { headers["X-Echo-H-\(name)"] = value }
    let environment = Environment()
    for name in ["FN_APP_NAME", "FN_FN_NAME", "FN_MEMORY", "FN_FORMAT"] { headers["X-Echo-Env-\(name)"] = environment[name] ?? "" }
    return FunctionResponse(status: 200, headers: headers, body: request.body)
}
