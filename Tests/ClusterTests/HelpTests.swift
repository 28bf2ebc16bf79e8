import Foundation
import XCTest

/// Issue 23: help showed `(default: 128). (default: 128)`, and a usage error found while a
/// subcommand ran printed the top level's usage. Every help screen, walked from `shoal --help`.
final class HelpTests: XCTestCase {
    /// The subcommand names an help screen lists (two-space indent, then the name).
    private func subcommands(_ help: String) -> [String] {
        guard let after = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first,
              let section = after.components(separatedBy: "\n\n").first else { return [] }
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            return line.split(separator: " ").first.map(String.init)
        }.filter { $0 != "help" }
    }

    func testEveryHelpScreenExitsZeroOnceAndSaysEachDefaultOnce() throws {
        let h = try ClusterHarness()
        var queue: [[String]] = [[]], seen = 0
        while !queue.isEmpty {
            let path = queue.removeFirst()
            let r = try h.run(path + ["--help"])
            let name = (["shoal"] + path).joined(separator: " ")
            XCTAssertEqual(r.status, 0, "\(name) --help: \(r.stderr)")
            XCTAssertTrue(r.stdout.hasPrefix("OVERVIEW: "), "\(name) --help: \(r.stdout.prefix(200)) \(r.stderr)")
            XCTAssertTrue(r.stderr.isEmpty, "\(name) --help wrote to stderr: \(r.stderr)")
            XCTAssertNil(r.stdout.range(of: #"\(default: [^)]*\)\.? *\(default:"#, options: .regularExpression), "\(name) --help says a default twice")
            if path.count < 3 { queue += subcommands(r.stdout).map { path + [$0] } }
            seen += 1
        }
        XCTAssertGreaterThan(seen, 30, "walked only \(seen) help screens")
    }
}
