import Foundation

/// Linux's `O_PATH` (Glibc's header hides it from Swift behind _GNU_SOURCE):
/// a descriptor that only names a place in the tree, for the `*at` calls.
let O_PATH: Int32 = 0o10000000

/// Why a path could not be used inside a root directory.
enum RootPathError: Error {
    case system(operation: String, path: String, errno: Int32)
    case notADirectory(String)
    case tooManySymlinks(String)
    case escapesRoot(String)
}

/// A directory that a layer is written into. Every path is resolved inside
/// it through directory descriptors, the way openat2's RESOLVE_IN_ROOT does:
/// symbolic links are followed but `/` and `..` stop at the root, so no entry
/// of any layer can reach outside, whatever links earlier entries planted.
/// The last component of a path is never followed: operations on it use the
/// `*at` calls with `O_NOFOLLOW` / `AT_SYMLINK_NOFOLLOW`.
final class RootDirectory {
    let path: String
    let fd: Int32

    init(path: String) throws(RootPathError) {
        self.path = path
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open", path: path, errno: errno) }
    }

    deinit { close(fd) }

    /// Splits an archive entry's name into clean components: a leading `/` is
    /// dropped (names are relative to the root), `.` and empty parts vanish, and
    /// `..` is applied lexically; a name that climbs above the root is refused.
    static func components(of name: String) throws(RootPathError) -> [String] {
        var result: [String] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard !result.isEmpty else { throw .escapesRoot(name) }
                result.removeLast()
            default: result.append(String(part))
            }
        }
        return result
    }

    /// Opens the directory at `components` inside the root (an `O_PATH`
    /// descriptor the caller closes), following symbolic links within the
    /// root. With `create`, missing directories are made (mode 0755).
    func openDirectory(_ components: ArraySlice<String>, create: Bool) throws(RootPathError) -> Int32 {
        var chain: [Int32] = [dup(fd)]
        defer { chain.forEach { close($0) } }
        var pending = Array(components.reversed())
        var followed = 0
        let display = components.joined(separator: "/")
        while let component = pending.popLast() {
            if component.isEmpty || component == "." { continue }
            if component == ".." {
                if chain.count > 1 { close(chain.removeLast()) }
                continue
            }
            let current = chain[chain.count - 1]
            var st = stat()
            if fstatat(current, component, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT, create else { throw .system(operation: "stat", path: display, errno: errno) }
                if mkdirat(current, component, 0o755) != 0, errno != EEXIST {
                    throw .system(operation: "mkdir", path: display, errno: errno)
                }
                guard fstatat(current, component, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw .system(operation: "stat", path: display, errno: errno)
                }
            }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                followed += 1
                guard followed <= 40 else { throw .tooManySymlinks(display) }
                let target = try readLink(current, component, display: display)
                if target.hasPrefix("/") {
                    while chain.count > 1 { close(chain.removeLast()) }
                }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
            case S_IFDIR:
                let next = openat(current, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { throw .system(operation: "open", path: display, errno: errno) }
                chain.append(next)
            default:
                throw .notADirectory(display)
            }
        }
        return chain.removeLast()
    }

    func readLink(_ directory: Int32, _ name: String, display: String) throws(RootPathError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(directory, name, &buffer, buffer.count - 1)
        guard n >= 0 else { throw .system(operation: "readlink", path: display, errno: errno) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes `name` in `directory` and, for a directory, everything below
    /// it, never following links. Missing is fine.
    static func removeAll(_ directory: Int32, _ name: String) throws(RootPathError) {
        var st = stat()
        guard fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw .system(operation: "stat", path: name, errno: errno)
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            // A directory without write or search permission for us still empties.
            if st.st_mode & 0o700 != 0o700 { fchmodat(directory, name, 0o700, 0) }
            let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw .system(operation: "open", path: name, errno: errno) }
            defer { close(child) }
            for entry in try list(child) { try removeAll(child, entry) }
            guard unlinkat(directory, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw .system(operation: "remove", path: name, errno: errno)
            }
        } else {
            guard unlinkat(directory, name, 0) == 0 || errno == ENOENT else {
                throw .system(operation: "remove", path: name, errno: errno)
            }
        }
    }

    /// The names in an open directory, without `.` and `..`.
    static func list(_ directory: Int32) throws(RootPathError) -> [String] {
        let copy = openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0, let dir = fdopendir(copy) else { throw .system(operation: "list", path: ".", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a whole tree by path (a failed or replaced unpack).
    static func removeTree(_ path: String) {
        let parent = (path as NSString).deletingLastPathComponent
        let fd = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        try? removeAll(fd, (path as NSString).lastPathComponent)
    }
}
