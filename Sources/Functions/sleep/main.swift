#if canImport(Glibc)
import Glibc
#endif
import FDK

// Sleeps as many milliseconds as the body says (default 1000), then answers.
FDK.serve { request in
    let milliseconds = Int(request.bodyText.trimmingCharacters()) ?? 1000
    usleep(useconds_t(milliseconds * 1000))
    return FunctionResponse("slept \(milliseconds) ms\n")
}

extension String {
    func trimmingCharacters() -> String { String(self.filter { !$0.isWhitespace }) }
}
