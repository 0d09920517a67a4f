#if canImport(Glibc)
import Glibc
#endif
import FDK

// Takes SLOW_START_MS (default 2000) to start listening, then says hello.
let milliseconds = Environment()["SLOW_START_MS"].flatMap { Int($0) } ?? 2000
_ = "slowstart: starting in \(milliseconds) ms\n".withCString { write(2, $0, strlen($0)) }
usleep(useconds_t(milliseconds * 1000))
FDK.serve { _ in FunctionResponse("started slowly\n") }
