#if canImport(Glibc)
import Glibc
#endif

/// Every client connection and every hot container's socket is an open
/// file, and a host's usual soft limit (1,024) would cap `fnrt serve` at
/// about a thousand clients at once, the next ones failing. The soft limit
/// is raised to the hard one at start, as Go programs do and nginx's
/// `worker_rlimit_nofile` does. Functions keep their own limit (the spec's
/// `openFiles`), set in their containers.
enum OpenFilesLimit {
    /// Below this, serve warns that the limit caps the clients served at once.
    static let comfortable: UInt64 = 4096

    /// Raises the soft limit to the hard one; returns the soft limit now in force.
    static func raise() -> UInt64? {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}
