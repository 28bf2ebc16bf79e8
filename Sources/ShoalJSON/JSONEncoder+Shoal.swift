import Foundation

extension JSONEncoder {
    /// The encoder of every JSON text Shoal writes from a Codable value (`--json` output, bench
    /// reports, summary.json, training logs, trainer_state.json): keys sorted, so the output is
    /// stable; slashes as they are (`"agents/math"`, never `"agents\/math"`). `snakeCase`: the
    /// value's property names are camelCase; `pretty`: a file people open.
    public static func shoal(snakeCase: Bool = false, pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return encoder
    }
}
