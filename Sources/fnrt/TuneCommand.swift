import ArgumentParser
import Foundation
import ImageStore
import Tuning

struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Replay invocation traces against keep-alive policies and recommend idle timeouts.",
        subcommands: [Simulate.self, Generate.self], defaultSubcommand: Simulate.self)

    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "simulate",
            abstract: "Replay TRACE against each --policy: cold starts, idle memory, per-function recommendations.",
            discussion: "Formats: azure (HashOwner,HashApp,HashFunction,Trigger,1..1440 per-minute counts; --memory and --durations files optional) and fnrt (the scheduler's JSON Lines trace). Functions without memory data count 128 MB.")

        @Argument(help: "The trace: the Azure invocations CSV, or fnrt's JSON Lines with the file rotated from it (<trace>.1) (default: $FNRT_TRACE, else $FNRT_HOME/trace.jsonl, where fnrt serve writes it).")
        var trace: String?

        @Option(help: "azure or fnrt (default: told by the file's first character).")
        var format: String?

        @Option(help: "Azure app memory file (AverageAllocatedMb).")
        var memory: String?

        @Option(help: "Azure function durations file (Average, ms).")
        var durations: String?

        @Option(help: "A policy: fixed:30s|10m|2h, fn (30 s), hybrid, no-unloading (repeatable; default fn, fixed:10m, fixed:20m, hybrid, no-unloading).")
        var policy: [String] = []

        @Option(help: "A cold start's price, in seconds of the function's memory (recommendations minimise cold starts x price + idle GB-s).")
        var coldStartCost: Double = 60

        @Option(help: "Instead: recommend the least idle memory with at most this cold-start rate (0-1).")
        var targetColdRate: Double?

        @Flag(help: "Skip malformed rows (reported with their line numbers) instead of stopping.")
        var skipMalformed = false

        @Flag(inversion: .prefixedNo, help: "Recommend each function's idle timeout (simulates 10 fixed timeouts per function).")
        var recommend = true

        @Option(help: "Write the report: .json (policies, recommendations, curve) or .csv (policies).")
        var output: String?

        @Option(help: "Draw cold-start rate against idle memory as SVG: the fixed-timeout curve and each policy.")
        var plot: String?

        @Option(help: "Write the recommended idle timeouts to the functions of this fnrt (or Fn) server, e.g. http://127.0.0.1:8080.")
        var apply: String?

        @Option(help: "Bearer token for --apply (else $FNRT_API_TOKEN).")
        var apiToken: String?

        func run() async throws {
            do {
                var tuner = Tuner(policies: try (policy.isEmpty ? ["fn", "fixed:10m", "fixed:20m", "hybrid", "no-unloading"] : policy).map(parsePolicy))
                tuner.objective = targetColdRate.map { .coldStartRate($0) } ?? .cost(coldStartSeconds: coldStartCost)
                tuner.malformed = skipMalformed ? .skip : .refuse
                if !recommend { tuner.candidates = [] }
                let environment = ProcessInfo.processInfo.environment
                let trace = try trace ?? environment["FNRT_TRACE"].flatMap { $0 == "none" ? nil : $0 } ?? "\(FnrtHome.fromEnvironment().path)/trace.jsonl"
                let source: TraceSource
                switch format {
                case nil: source = .detecting(trace, memory: memory, durations: durations)
                case "azure": source = .azure(invocations: trace, memory: memory, durations: durations)
                case "fnrt": source = .fnrt(trace)
                case let format?: throw ValidationError("--format \(format): use azure or fnrt")
                }
                let report = try tuner.run(source)
                printTable(report)
                if let output {
                    if output.hasSuffix(".csv") {
                        try report.csv.write(toFile: output, atomically: true, encoding: .utf8)
                    } else {
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                        try encoder.encode(report).write(to: URL(fileURLWithPath: output))
                    }
                }
                if let plot { try report.svg.write(toFile: plot, atomically: true, encoding: .utf8) }
                if let apply {
                    guard let base = URL(string: apply), base.scheme == "http" || base.scheme == "https" else { throw ValidationError("--apply \(apply): expected http://HOST:PORT") }
                    try await applyRecommendations(report.recommendations, to: ManagementClient(base: base, token: apiToken ?? ProcessInfo.processInfo.environment["FNRT_API_TOKEN"]))
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                throw fail(error)
            }
        }

        /// Sets each recommended function's `idle_timeout` (clamped to Fn's 1...3600 s) and prints what changed.
        func applyRecommendations(_ recommendations: [Recommendation], to server: ManagementClient) async throws {
            var changed = 0, missing = 0
            for recommendation in recommendations {
                let name = "\(recommendation.app)/\(recommendation.function)"
                guard let function = try await server.function(app: recommendation.app, name: recommendation.function),
                      let id = function["id"] as? String else {
                    missing += 1
                    print("\(name): not on the server, skipped")
                    continue
                }
                if (function["annotations"] as? [String: Any])?["fnrt.io/idle_timeout"] as? String == "auto" {
                    print("\(name): idle_timeout auto (adapts live), skipped")
                    continue
                }
                let seconds = min(max(Int(recommendation.idleTimeoutSeconds.rounded()), 1), 3600)
                let before = function["idle_timeout"] as? Int
                guard before != seconds else { continue }
                _ = try await server.send("PUT", "/v2/fns/\(id)", body: ["idle_timeout": seconds])
                changed += 1
                let clamped = Double(seconds) < recommendation.idleTimeoutSeconds ? " (recommended \(Int(recommendation.idleTimeoutSeconds))s, Fn's limit is 3600s)" : ""
                print("\(name): idle_timeout \(before.map { "\($0)s" } ?? "-") -> \(seconds)s\(clamped)")
            }
            print("applied: \(changed) changed, \(recommendations.count - changed - missing) unchanged, \(missing) not on the server")
        }

        func printTable(_ report: TuneReport) {
            let rows = [["POLICY", "INVOCATIONS", "COLD STARTS", "COLD RATE", "APP P75", "IDLE GB-S", "TIME"]] + report.policies.map {
                [$0.name, "\($0.invocations)", "\($0.coldStarts)", String(format: "%.4f", $0.coldStartRate),
                 String(format: "%.4f", $0.appColdStartRateP75), String(format: "%.0f", $0.idleMemoryGBSeconds), String(format: "%.2fs", $0.simulationSeconds)]
            }
            fnrt.printTable(rows)
            let fixed = report.recommendations.reduce(into: [Double: Int]()) { $0[$1.idleTimeoutSeconds, default: 0] += 1 }
            if !fixed.isEmpty {
                print("recommended idle timeouts (functions): " + fixed.sorted { $0.key < $1.key }.map { "\(Int($0.key))s x\($0.value)" }.joined(separator: ", "))
            }
            if !report.skippedRows.isEmpty { print("skipped \(report.skippedRows.count) malformed rows, first: \(report.skippedRows[0])") }
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a synthetic day in the Azure format (invocations.csv, memory.csv) following the paper's distributions.")

        @Argument(help: "The directory to write into.")
        var directory: String

        @Option(help: "How many functions.")
        var functions = 10_000

        @Option(help: "The seed.")
        var seed: UInt64 = 1

        func run() async throws {
            do {
                let files = try TraceGenerator(functions: functions, seed: seed).write(to: directory)
                print("wrote \(files.invocations) and \(files.memory)")
            } catch {
                throw fail(error)
            }
        }
    }
}
