import Foundation
import ImageStore
import OCI
import Synchronization

/// Shows a pull's progress: a bar per layer on a terminal (bytes, rate, ETA,
/// like `docker pull`), one line per finished layer otherwise.
final class PullProgress: Sendable {
    private struct Layer {
        var digest: Digest
        var total: Int64
        var received: Int64 = 0
        var state = "Waiting"
        var started: ContinuousClock.Instant?
    }
    private struct State {
        var layers: [Layer] = []
        var drawnLines = 0
        var lastDraw = ContinuousClock.now - .seconds(1)
    }
    private let terminal: Bool
    private let state = Mutex(State())

    init(terminal: Bool) { self.terminal = terminal }

    func handle(_ event: PullEvent) {
        state.withLock { s in
            switch event {
            case .resolved(let ref, let manifest, let layers):
                s.layers = layers.map { Layer(digest: $0.digest, total: $0.size) }
                emit("\(ref): manifest \(manifest), \(layers.count) layers, \(formatBytes(layers.reduce(0) { $0 + $1.size }))\n")
            case .progress(let digest, let received, _):
                guard let i = s.layers.firstIndex(where: { $0.digest == digest }) else { return }
                if s.layers[i].started == nil { s.layers[i].started = .now }
                s.layers[i].received = received
                s.layers[i].state = "Downloading"
            case .layerDone(let digest, let cached):
                guard let i = s.layers.firstIndex(where: { $0.digest == digest }) else { return }
                s.layers[i].state = cached ? "Already exists" : "Pull complete"
                s.layers[i].received = s.layers[i].total
                if !terminal {
                    emit("\(short(digest)): \(s.layers[i].state) \(formatBytes(s.layers[i].total))\n")
                }
            }
            if terminal { draw(&s, force: { if case .progress = event { return false } else { return true } }()) }
        }
    }

    func finish() {
        state.withLock { s in if terminal { draw(&s, force: true) } }
    }

    private func draw(_ s: inout State, force: Bool) {
        let now = ContinuousClock.now
        guard force || now - s.lastDraw >= .milliseconds(100) else { return }
        s.lastDraw = now
        var out = s.drawnLines > 0 ? "\u{1B}[\(s.drawnLines)A" : ""
        for layer in s.layers {
            out += "\u{1B}[2K\(short(layer.digest)): \(layer.state)"
            if layer.state == "Downloading", layer.total > 0 {
                let width = 30
                let filled = Int(Double(width) * Double(layer.received) / Double(layer.total))
                out += " [" + String(repeating: "=", count: max(0, filled - 1)) + (filled > 0 ? ">" : "")
                    + String(repeating: " ", count: width - max(filled, 0)) + "] "
                out += "\(formatBytes(layer.received))/\(formatBytes(layer.total))"
                if let started = layer.started {
                    let seconds = max(0.001, Double((now - started).components.attoseconds) / 1e18 + Double((now - started).components.seconds))
                    let rate = Double(layer.received) / seconds
                    out += "  \(formatBytes(Int64(rate)))/s"
                    if rate > 0 { out += "  ETA \(Int((Double(layer.total - layer.received) / rate).rounded(.up)))s" }
                }
            }
            out += "\n"
        }
        s.drawnLines = s.layers.count
        emit(out)
    }

    private func short(_ digest: Digest) -> String { String(digest.encoded.prefix(12)) }

    private func emit(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes)B" : String(format: "%.1f%@", value, units[unit])
}

func formatDuration(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return String(format: "%.2fs", Double(seconds) + Double(attoseconds) / 1e18)
}
