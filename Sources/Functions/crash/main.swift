#if canImport(Glibc)
import Glibc
#endif
import FDK

// Dies in the middle of every call, without answering.
FDK.serve { _ in
    _ = "crash: exiting mid-call\n".withCString { write(2, $0, strlen($0)) }
    exit(3)
}
