import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print Shoal and its baseline from the same run, as ratios.",
        subcommands: [BenchRoutingCommand.self])
}
