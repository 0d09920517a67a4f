import Foundation

/// Writes a synthetic day in the Azure dataset's format whose functions follow
/// the distributions Shahrad et al. publish (ATC 2020, §3):
/// - invocation frequency (Fig. 5): 45% of functions are called at most once
///   an hour, 36% between once an hour and once a minute, 19% more often, up
///   to about 100 a minute; rates log-uniform within each band;
/// - arrival patterns (Fig. 6-7): about 16% timer-triggered, periodic (period
///   1, 5, 10, 15, 30 or 60 minutes, small jitter); about 60% Poisson
///   (coefficient of variation ~1); the rest bursty (on/off: bursts of a few
///   calls minutes apart, then long pauses), whose idle times are very
///   variable;
/// - memory (Fig. 9): log-normal with a median of 150 MB, between 64 and 1,024 MB.
/// Seeded, so a seed always gives the same trace.
public struct TraceGenerator {
    public var functions: Int
    public var seed: UInt64

    public init(functions: Int, seed: UInt64) {
        self.functions = functions
        self.seed = seed
    }

    /// Writes `invocations.csv` and `memory.csv` into `directory`.
    public func write(to directory: String) throws -> (invocations: String, memory: String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let invocations = directory + "/invocations.csv", memory = directory + "/memory.csv"
        var rng = SplitMix64(seed: seed)
        let header = "HashOwner,HashApp,HashFunction,Trigger," + (1...1440).map(String.init).joined(separator: ",") + "\n"
        var mem = "HashOwner,HashApp,SampleCount,AverageAllocatedMb\n"
        let file = FileHandle(forWritingAtPath: invocations) ?? {
            _ = FileManager.default.createFile(atPath: invocations, contents: nil)
            return FileHandle(forWritingAtPath: invocations)!
        }()
        defer { try? file.close() }
        try file.truncate(atOffset: 0)
        file.write(Data(header.utf8))
        for index in 0..<functions {
            var counts = [Int](repeating: 0, count: 1440)
            let band = rng.unit()
            let perMinute: Double = band < 0.45 ? logUniform(&rng, 1.0 / 1440, 1.0 / 60)
                : band < 0.81 ? logUniform(&rng, 1.0 / 60, 1) : logUniform(&rng, 1, 100)
            let pattern = rng.unit()
            var trigger = "http"
            if pattern < 0.16 {
                trigger = "timer"
                let period = [1, 5, 10, 15, 30, 60][Int(rng.unit() * 6)]
                var minute = Int(rng.unit() * Double(period))
                while minute < 1440 {
                    counts[minute] += 1
                    minute += period
                }
            } else if pattern < 0.76 {
                var t = exponential(&rng, perMinute)
                while t < 1440 {
                    counts[Int(t)] += 1
                    t += exponential(&rng, perMinute)
                }
            } else {
                // On/off: bursts of 2-10 calls a few minutes apart, pauses sized to keep the rate.
                let burst = 2 + Int(rng.unit() * 9)
                var t = rng.unit() * 120
                while t < 1440 {
                    for _ in 0..<burst where t < 1440 {
                        counts[Int(t)] += 1
                        t += 1 + rng.unit() * 4
                    }
                    t += exponential(&rng, perMinute / Double(burst)) * 1.5
                }
            }
            let line = "o\(index % 97),app\(index / 3),fn\(index),\(trigger)," + counts.map(String.init).joined(separator: ",") + "\n"
            file.write(Data(line.utf8))
            if index % 3 == 0 {
                let mb = min(1024, max(64, exp(log(150) + 0.6 * normal(&rng))))
                mem += "o\(index % 97),app\(index / 3),1,\(Int(mb))\n"
            }
        }
        try mem.write(toFile: memory, atomically: true, encoding: .utf8)
        return (invocations, memory)
    }
}

func logUniform(_ rng: inout SplitMix64, _ low: Double, _ high: Double) -> Double { exp(log(low) + rng.unit() * (log(high) - log(low))) }
func exponential(_ rng: inout SplitMix64, _ rate: Double) -> Double { -log(1 - rng.unit()) / rate }
func normal(_ rng: inout SplitMix64) -> Double { (-2 * log(1 - rng.unit())).squareRoot() * cos(2 * .pi * rng.unit()) }

/// A small, fast, seeded generator (SplitMix64).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
