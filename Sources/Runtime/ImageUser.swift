import Foundation

/// An image's `User` (`name`, `uid`, `name:group`, `uid:gid`...) as the
/// numeric IDs an OCI runtime takes, looked up in the image's own
/// `/etc/passwd` and `/etc/group` as Docker (runc's libcontainer) does: a
/// user's primary group is its passwd entry's (0 for a uid with none), and
/// a group given replaces it. Real Fn images often say `USER fn`.
///
/// The files are opened through the root directory with `O_NOFOLLOW` at
/// each step: a link in the image (`/etc/passwd -> /etc/shadow`, `/etc ->
/// /`) is refused, never followed out of the root.
enum ImageUser {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What the process runs as.
    struct Resolved: Equatable {
        var uid: Int
        var gid: Int
        /// The primary group, then the groups that list the user by name
        /// (only when no group was given), as Docker sets them.
        var groups: [Int]
        /// The user's home directory from its entry; `/` without one.
        var home: String
    }

    /// `user` in the root file system at `rootfs`.
    static func resolve(_ user: String, rootfs: String) throws -> Resolved {
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, !name.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw Failure(description: "user '\(user)': expected user[:group]")
        }
        let passwd = try entries(of: "passwd", in: rootfs).filter { $0.count > 3 && Int($0[2]) != nil && Int($0[3]) != nil }
        let entry: [String]?
        if let number = Int(name) {
            entry = passwd.first { Int($0[2]) == number }
        } else {
            guard let named = passwd.first(where: { $0[0] == name }) else {
                throw Failure(description: "user '\(name)' is not in the image's /etc/passwd")
            }
            entry = named
        }
        let uid = entry.map { Int($0[2])! } ?? Int(name)!
        var gid = entry.map { Int($0[3])! } ?? 0
        let home = entry.flatMap { $0.count > 5 && !$0[5].isEmpty ? $0[5] : nil } ?? "/"
        var groups: [Int] = []
        if parts.count == 1, let entry {
            groups = try entries(of: "group", in: rootfs).filter { group in
                group.count > 3 && Int(group[2]) != nil && group[3].split(separator: ",").contains { $0 == entry[0] }
            }.map { Int($0[2])! }
        }
        if parts.count == 2 {
            let group = parts[1]
            if let number = Int(group) {
                gid = number
            } else {
                guard let entry = try entries(of: "group", in: rootfs).first(where: { $0.first == group }), entry.count > 2,
                      let number = Int(entry[2]) else {
                    throw Failure(description: "group '\(group)' is not in the image's /etc/group")
                }
                gid = number
            }
        }
        return Resolved(uid: uid, gid: gid, groups: [gid] + groups.filter { $0 != gid }, home: home)
    }

    /// The colon-separated fields of each line of `/etc/<file>` in `rootfs`
    /// (none when the image has no such file).
    static func entries(of file: String, in rootfs: String) throws -> [[String]] {
        guard let text = try read("etc/\(file)", in: rootfs) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The file at `path` (relative) under `rootfs`, every component opened
    /// with `O_NOFOLLOW`; nil when it does not exist; at most 1 MiB.
    private static func read(_ path: String, in rootfs: String) throws -> String? {
        var directory = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw Failure(description: "cannot open the image's root \(rootfs): \(String(cString: strerror(errno)))") }
        let components = path.split(separator: "/").map(String.init)
        for (index, component) in components.enumerated() {
            let last = index == components.count - 1
            // Non-blocking: a FIFO in the image's place of /etc/passwd must not hang the start.
            let next = openat(directory, component, (last ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC)
            let failure = errno
            close(directory)
            guard next >= 0 else {
                if failure == ENOENT { return nil }
                let reason = failure == ELOOP || failure == ENOTDIR ? "a link or not a plain file" : String(cString: strerror(failure))
                throw Failure(description: "cannot read /\(path) in the image: \(reason)")
            }
            directory = next
        }
        defer { close(directory) }
        var status = stat()
        guard fstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "cannot read /\(path) in the image: not a plain file")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= 1 << 20 {
            let count = Glibc.read(directory, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes.prefix(1 << 20), as: UTF8.self)
    }
}
