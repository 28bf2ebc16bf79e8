import ArgumentParser

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "The tour a new user sees first.")
    func run() throws {}
}
struct BenchRoutingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routing")
}
