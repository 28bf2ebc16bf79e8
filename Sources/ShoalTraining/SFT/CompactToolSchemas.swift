import ShoalJSON
import ShoalVerifiers

/// The tool schemas of a tools prompt, one line per function:
///
///     convert_currency(amount: float, from_currency: USD|EUR|GBP, to_currency: USD|EUR|GBP)
///     get_current_weather(location: string, unit?: celsius|fahrenheit)
///
/// Byte-level models pay for every character, and the BFCL JSON schemas make tools prompts
/// ~1.5 KB (p50), ten times the request. This keeps everything a call depends on (function
/// names, parameter names, types, allowed values, which are optional) and drops the prose
/// descriptions. Required parameters come first in schema order, optional ones after by name.
public enum CompactToolSchemas {
    public static func render(functionsJSON: String) -> String? {
        guard let functions = (try? JSONValue.parse(functionsJSON))?.arrayValue else { return nil }
        var lines: [String] = []
        for function in functions {
            guard let name = function["name"]?.stringValue else { return nil }
            let properties = function["parameters"]?["properties"]?.objectValue ?? [:]
            let required = (function["parameters"]?["required"]?.arrayValue ?? []).compactMap(\.stringValue)
            let optional = properties.keys.filter { !required.contains($0) }.sorted()
            let parameters = (required + optional).map { parameter -> String in
                let property = properties[parameter]
                let allowed = property?["enum"]?.arrayValue?.compactMap { $0.stringValue ?? $0.numberValue.map { "\($0)" } }
                let type = allowed.map { $0.joined(separator: "|") } ?? property?["type"]?.stringValue ?? "any"
                return parameter + (required.contains(parameter) ? "" : "?") + ": " + type
            }
            lines.append("\(name)(\(parameters.joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n")
    }
}
