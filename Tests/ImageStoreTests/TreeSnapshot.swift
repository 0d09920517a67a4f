import Foundation
import OCI

/// What a tree looks like to a person comparing two unpacks: every path with
/// its type, mode, owner, link target, content digest and mtime, plus which
/// paths share an inode.
struct TreeSnapshot: Equatable, CustomStringConvertible {
    struct Node: Equatable {
        var type: String
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var detail: String  // link target, content digest, or device numbers
        var mtime: Int
    }
    var nodes: [String: Node] = [:]
    var hardlinkGroups: Set<[String]> = []

    /// Walks `root` without following links. `ignoring` names relative paths left out.
    init(_ root: String, ignoring: Set<String> = [], directoryTimes: Bool = true) throws {
        var inodes: [UInt64: [String]] = [:]
        func walk(_ relative: String) throws {
            let full = relative.isEmpty ? root : "\(root)/\(relative)"
            for name in try FileManager.default.contentsOfDirectory(atPath: full).sorted() {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                if ignoring.contains(path) { continue }
                var st = stat()
                guard lstat("\(root)/\(path)", &st) == 0 else { throw CocoaError(.fileReadUnknown) }
                var node = Node(type: "?", mode: UInt32(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid, detail: "", mtime: st.st_mtim.tv_sec)
                switch st.st_mode & S_IFMT {
                case S_IFDIR:
                    node.type = "dir"
                    if !directoryTimes { node.mtime = 0 }
                    try walk(path)
                case S_IFREG:
                    node.type = "file"
                    node.detail = Digest.sha256(of: try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(path)"))).description
                    if st.st_nlink > 1 { inodes[UInt64(st.st_ino), default: []].append(path) }
                case S_IFLNK:
                    node.type = "symlink"
                    node.detail = try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/\(path)")
                    node.mode = 0
                    node.mtime = 0  // not every tool sets symlink times
                case S_IFIFO: node.type = "fifo"
                case S_IFCHR: node.type = "char"; node.detail = "\(st.st_rdev)"
                case S_IFBLK: node.type = "block"; node.detail = "\(st.st_rdev)"
                default: node.type = "other"
                }
                nodes[path] = node
            }
        }
        try walk("")
        hardlinkGroups = Set(inodes.values.filter { $0.count > 1 }.map { $0.sorted() })
    }

    var description: String {
        nodes.keys.sorted().map { "\($0): \(nodes[$0]!)" }.joined(separator: "\n") + "\nhardlinks: \(hardlinkGroups)"
    }

    /// The differences, one line each, for a readable failure.
    func differences(from other: TreeSnapshot) -> [String] {
        var lines: [String] = []
        for path in Set(nodes.keys).union(other.nodes.keys).sorted() where nodes[path] != other.nodes[path] {
            lines.append("\(path): \(nodes[path].map { "\($0)" } ?? "missing") vs \(other.nodes[path].map { "\($0)" } ?? "missing")")
        }
        if hardlinkGroups != other.hardlinkGroups { lines.append("hardlinks: \(hardlinkGroups) vs \(other.hardlinkGroups)") }
        return lines
    }
}
