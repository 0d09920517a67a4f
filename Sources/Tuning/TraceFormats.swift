import Foundation

/// What to do with a malformed row.
public enum MalformedRows: Sendable {
    /// Stop with the row's line number.
    case refuse
    /// Skip it and report it (line number and reason) in `skipped`.
    case skip
}

/// The Azure Functions public dataset (Shahrad et al., ATC 2020):
/// `HashOwner,HashApp,HashFunction,Trigger,1,...,1440`, invocations per
/// minute of one day; optional per-app memory (`HashOwner,HashApp,...,
/// AverageAllocatedMb,...`) and per-function durations (`...,Average,...`, ms).
public struct AzureTrace {
    public let path: String
    public var memoryByApp: [String: Double] = [:]
    public var durationByFunction: [String: Double] = [:]
    public var malformed: MalformedRows = .refuse
    /// Rows skipped, with why.
    public private(set) var skipped: [TraceError] = []

    public init(path: String, memoryPath: String? = nil, durationsPath: String? = nil, malformed: MalformedRows = .refuse) throws {
        self.path = path
        self.malformed = malformed
        if let memoryPath { memoryByApp = try Self.readColumn(memoryPath, keyColumns: ["HashOwner", "HashApp"], value: "AverageAllocatedMb") }
        if let durationsPath {
            durationByFunction = try Self.readColumn(durationsPath, keyColumns: ["HashOwner", "HashApp", "HashFunction"], value: "Average")
        }
    }

    /// Calls `body` with each function's trace, one row at a time.
    public mutating func forEachFunction(_ body: (FunctionTrace) throws -> Void) throws {
        var reader = try LineReader(path: path)
        guard let header = reader.next() else { throw TraceError(file: path, line: 1, reason: "empty file") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard columns.count >= 5, columns[0] == "HashOwner", columns[1] == "HashApp", columns[2] == "HashFunction", columns[3] == "Trigger" else {
            throw TraceError(file: path, line: 1, reason: "expected the header HashOwner,HashApp,HashFunction,Trigger,1,...,1440")
        }
        let minutes = columns.count - 4
        while let line = reader.nextBytes() {
            if line.isEmpty { continue }
            do {
                try body(try parseRow(line, columns: columns.count, minutes: minutes, lineNumber: reader.lineNumber))
            } catch let error as TraceError {
                guard malformed == .skip else { throw error }
                skipped.append(error)
            }
        }
    }

    /// One row, parsed from its bytes: four names, then a count per minute.
    private func parseRow(_ line: ArraySlice<UInt8>, columns: Int, minutes: Int, lineNumber: Int) throws -> FunctionTrace {
        let comma = UInt8(ascii: ",")
        var fields = 1
        for byte in line where byte == comma { fields += 1 }
        guard fields == columns else {
            throw TraceError(file: path, line: lineNumber, reason: "\(fields) fields where the header has \(columns)")
        }
        var names: [String] = []
        var index = line.startIndex
        while names.count < 4 {
            guard let next = line[index...].firstIndex(of: comma) else {
                throw TraceError(file: path, line: lineNumber, reason: "\(names.count + 1) fields where the header has \(columns)")
            }
            names.append(String(decoding: line[index..<next], as: UTF8.self))
            index = next + 1
        }
        let key = FunctionKey(owner: names[0], app: names[1], function: names[2])
        let duration = (durationByFunction["\(key.owner),\(key.app),\(key.function)"] ?? 0) / 1000
        var arrivals: [Arrival] = []
        var minute = 0
        var value = 0, digits = 0, bad = false
        func finish(_ end: Int) throws {
            guard minute < minutes else {
                throw TraceError(file: path, line: lineNumber, reason: "more fields than the header's \(columns)")
            }
            guard digits > 0, !bad else {
                let field = String(decoding: line[line.index(end, offsetBy: -max(digits, 0))..<end], as: UTF8.self)
                throw TraceError(file: path, line: lineNumber, reason: "minute \(minute + 1): '\(bad ? fieldText(end) : field)' is not a count")
            }
            if value > 0 { arrivals.append(Arrival(time: Double(minute) * 60, count: value, duration: duration)) }
            minute += 1
            value = 0
            digits = 0
        }
        func fieldText(_ end: Int) -> String {
            let start = line[..<end].lastIndex(of: comma).map { $0 + 1 } ?? line.startIndex
            return String(decoding: line[start..<end], as: UTF8.self)
        }
        var position = index
        while position < line.endIndex {
            let byte = line[position]
            if byte == comma {
                try finish(position)
            } else if byte >= 48, byte <= 57, value < Int.max / 10 {
                value = value * 10 + Int(byte - 48)
                digits += 1
            } else {
                bad = true
                digits += 1
            }
            position += 1
        }
        try finish(position)
        guard minute == minutes else {
            throw TraceError(file: path, line: lineNumber, reason: "\(minute + 4) fields where the header has \(columns)")
        }
        return FunctionTrace(key: key, arrivals: arrivals, memoryMB: memoryByApp["\(key.owner),\(key.app)"] ?? 128)
    }

    /// The trace's length: a day of minutes.
    public var horizon: Double { 1440 * 60 }

    static func readColumn(_ path: String, keyColumns: [String], value: String) throws -> [String: Double] {
        var reader = try LineReader(path: path)
        guard let header = reader.next() else { throw TraceError(file: path, line: 1, reason: "empty file") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let keyIndexes = keyColumns.compactMap { columns.firstIndex(of: $0) }
        guard keyIndexes.count == keyColumns.count, let valueIndex = columns.firstIndex(of: value) else {
            throw TraceError(file: path, line: 1, reason: "expected columns \((keyColumns + [value]).joined(separator: ", "))")
        }
        var result: [String: Double] = [:]
        while let line = reader.next() {
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns.count, let number = Double(fields[valueIndex]) else {
                throw TraceError(file: path, line: reader.lineNumber, reason: "malformed row")
            }
            result[keyIndexes.map { String(fields[$0]) }.joined(separator: ",")] = number
        }
        return result
    }
}

/// fnrt's own invocation trace (JSON Lines from the scheduler).
public struct FnrtTrace {
    struct Entry: Decodable { var time: Double; var app: String; var function: String; var durationMS: Double; var memoryMB: Int }

    /// The files of the trace at `path`, oldest first: the file the
    /// scheduler rotated away (`<path>.1`), when there is one, then `path`.
    /// Reading `path` alone just after a rotation saw only the last minutes.
    public static func files(_ path: String) -> [String] {
        access(path + ".1", R_OK) == 0 ? [path + ".1", path] : [path]
    }

    /// Every function's calls, grouped (the times of one function fit in memory; lines are streamed).
    public static func read(_ path: String, malformed: MalformedRows = .refuse) throws -> (functions: [FunctionTrace], horizon: Double, skipped: [TraceError]) {
        try read(files: [path], malformed: malformed)
    }

    /// The calls of several files of one trace, as one.
    public static func read(files paths: [String], malformed: MalformedRows = .refuse) throws -> (functions: [FunctionTrace], horizon: Double, skipped: [TraceError]) {
        var byFunction: [FunctionKey: FunctionTrace] = [:]
        var skipped: [TraceError] = []
        var first = Double.infinity, last = 0.0
        let decoder = JSONDecoder()
        for path in paths {
            var reader = try LineReader(path: path)
            while let line = reader.next() {
                if line.isEmpty { continue }
                guard let entry = try? decoder.decode(Entry.self, from: Data(line.utf8)) else {
                    let error = TraceError(file: path, line: reader.lineNumber, reason: "not an invocation record (time, app, function, durationMS, memoryMB)")
                    guard malformed == .skip else { throw error }
                    skipped.append(error)
                    continue
                }
                let key = FunctionKey(app: entry.app, function: entry.function)
                byFunction[key, default: FunctionTrace(key: key, arrivals: [], memoryMB: Double(entry.memoryMB))].arrivals
                    .append(Arrival(time: entry.time, duration: entry.durationMS / 1000))
                first = min(first, entry.time)
                last = max(last, entry.time + entry.durationMS / 1000)
            }
        }
        guard first.isFinite else { return ([], 0, skipped) }
        let functions = byFunction.values.map { trace -> FunctionTrace in
            var t = trace
            t.arrivals = t.arrivals.map { Arrival(time: $0.time - first, count: $0.count, duration: $0.duration) }.sorted { $0.time < $1.time }
            return t
        }.sorted { $0.key < $1.key }
        return (functions, last - first, skipped)
    }
}
