/// A model version's digest: SHA-256 over "<file sha256>  <file name>\n" for each of its files,
/// sorted by name (the format of `sha256sum`'s output). The coordinator's registry names
/// versions by it and a worker checks what it loaded against it, so both use this one function.
public enum ModelDigest {
    public static func of(_ files: [(name: String, sha256: String)]) -> String {
        SHA256.hex(Array(files.sorted { $0.name < $1.name }.map { "\($0.sha256)  \($0.name)\n" }.joined().utf8))
    }
}
