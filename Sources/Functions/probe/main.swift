#if canImport(Glibc)
import Glibc
#endif
import FDK

// Reports what the function can see and do from inside its container, for
// the hardening tests: network interfaces, whether / and /tmp are writable,
// effective capabilities, user and group.
func readFile(_ path: String) -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var text = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), file) != nil { text += String(cString: buffer) }
    return text
}

func canWrite(_ path: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return false }
    close(fd)
    unlink(path)
    return true
}

FDK.serve { _ in
    let interfaces = readFile("/proc/net/dev").split(separator: "\n").dropFirst(2)
        .compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: " ") }.sorted()
    let capabilities = readFile("/proc/self/status").split(separator: "\n").first { $0.hasPrefix("CapEff:") }
        .map { String($0.dropFirst("CapEff:".count)).trimmingCharacters(in: "\t ") } ?? "?"
    let noNewPrivileges = readFile("/proc/self/status").split(separator: "\n").first { $0.hasPrefix("NoNewPrivs:") }
        .map { String($0.dropFirst("NoNewPrivs:".count)).trimmingCharacters(in: "\t ") } ?? "?"
    let lines = [
        "interfaces=\(interfaces.joined(separator: ","))",
        "root_writable=\(canWrite("/probe-write-test"))",
        "tmp_writable=\(canWrite("/tmp/probe-write-test"))",
        "cap_eff=\(capabilities)",
        "no_new_privs=\(noNewPrivileges)",
        "uid=\(getuid())", "gid=\(getgid())",
        "groups=\(supplementaryGroups())",
        "home=\(getenv("HOME").map { String(cString: $0) } ?? "-")",
    ]
    return FunctionResponse(lines.joined(separator: "\n") + "\n")
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// The process's supplementary group IDs, sorted, comma-separated.
func supplementaryGroups() -> String {
    var groups = [gid_t](repeating: 0, count: 64)
    let count = getgroups(Int32(groups.count), &groups)
    return groups.prefix(max(0, Int(count))).map(String.init).sorted().joined(separator: ",")
}
