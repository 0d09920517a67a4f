import FDK

// Answers "Hello, <name>!" (the body), or "Hello, world!".
FDK.serve { request in
    let name = request.bodyText.isEmpty ? "world" : request.bodyText
    return FunctionResponse("Hello, \(name)!\n")
}
