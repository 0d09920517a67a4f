#if canImport(Glibc)
import Glibc
#endif

// Starts, says so, and never listens: a start-up timeout.
_ = "neverlisten: up, but not listening\n".withCString { write(2, $0, strlen($0)) }
while true { sleep(60) }
