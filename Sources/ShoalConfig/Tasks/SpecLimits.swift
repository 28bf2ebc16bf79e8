/// Bounds on a task spec, checked on its text before the YAML parser sees it: a spec comes
/// from any client, and YAML can be made to nest until the parser's recursion overflows the
/// stack, or to expand a few hundred bytes of anchors and aliases into gigabytes.
///
/// The scan is one linear pass that tracks quoting, comments, block scalars, flow brackets
/// and indentation, enough to find where YAML nodes start:
/// - an anchor (`&a`) or alias (`*a`) at the start of a node is refused, whatever it names
///   (task specs have no use for them; `2 * 3` inside a scalar is text, not an alias);
/// - nesting (block indentation levels, `- ` entries opened on one line, flow brackets) may
///   not exceed `maxDepth`;
/// - the text may not exceed `maxBytes`, and the parsed spec `maxSteps` steps.
public struct SpecLimits: Sendable, Equatable {
    public var maxBytes = 1 << 20
    public var maxDepth = 32
    public var maxSteps = 1_000

    public init() {}

    public static let standard = SpecLimits()

    /// The first limit `text` breaks, as a problem line (`key: reason`), or nil.
    public func violation(in text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.count > maxBytes {
            return "spec: \(bytes.count) bytes is over the limit of \(maxBytes) bytes"
        }
        var scan = Scan(bytes: bytes, maxDepth: maxDepth)
        return scan.run()
    }

    private struct Scan {
        let bytes: [UInt8]
        let maxDepth: Int
        var line = 1

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

        func tooDeep(_ depth: Int) -> String {
            "spec: nesting deeper than \(maxDepth) levels (line \(line)); task specs nest a few levels"
        }

        func anchor(_ byte: UInt8) -> String {
            "spec: YAML \(byte == UInt8(ascii: "&") ? "anchor" : "alias") at line \(line); anchors and aliases are not allowed in task specs"
        }

        mutating func run() -> String? {
            var i = 0
            var indents: [Int] = []     // open block levels, by column
            var flow = 0                // depth of open [ and {
            var blockScalarIndent: Int? // inside a | or > scalar: lines indented more than this are text
            while i < bytes.count {
                // At the start of a line.
                var column = 0
                while i < bytes.count, bytes[i] == Self.space { column += 1; i += 1 }
                let blank = i >= bytes.count || bytes[i] == Self.newline || bytes[i] == Self.cr || bytes[i] == UInt8(ascii: "#")
                if let parent = blockScalarIndent {
                    if blank || column > parent { i = skipLine(i); continue }
                    blockScalarIndent = nil
                }
                if blank { i = skipLine(i); continue }
                var atNodeStart = true
                var lineIndent = column
                if flow == 0 {
                    while let top = indents.last, top > column { indents.removeLast() }
                    if indents.last != column { indents.append(column) }
                    // `- - - x`: each entry opens a level on this line.
                    while i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] == Self.space || bytes[i + 1] == Self.newline {
                        i += 2
                        lineIndent += 2
                        while i < bytes.count, bytes[i] == Self.space { i += 1; lineIndent += 1 }
                        indents.append(lineIndent)
                    }
                    if indents.count + flow > maxDepth { return tooDeep(indents.count) }
                }
                // The rest of the line.
                var lastSignificant: UInt8 = 0
                while i < bytes.count, bytes[i] != Self.newline {
                    let b = bytes[i]
                    if b == Self.space || b == Self.tab || b == Self.cr { i += 1; continue }
                    if atNodeStart, b == UInt8(ascii: "&") || b == UInt8(ascii: "*") { return anchor(b) }
                    switch b {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"):
                        guard let end = skipQuoted(from: i) else { return nil }  // unterminated: the parser says so
                        i = end
                        atNodeStart = false
                        lastSignificant = b
                        continue
                    case UInt8(ascii: "#") where i > 0 && (bytes[i - 1] == Self.space || bytes[i - 1] == Self.tab):
                        while i < bytes.count, bytes[i] != Self.newline { i += 1 }
                        continue
                    case UInt8(ascii: "["), UInt8(ascii: "{") where atNodeStart || flow > 0:
                        flow += 1
                        if indents.count + flow > maxDepth { return tooDeep(indents.count + flow) }
                        atNodeStart = true
                    case UInt8(ascii: "]"), UInt8(ascii: "}") where flow > 0:
                        flow -= 1
                        atNodeStart = false
                    case UInt8(ascii: ",") where flow > 0:
                        atNodeStart = true
                    case UInt8(ascii: ":") where i + 1 >= bytes.count || bytes[i + 1] == Self.space || bytes[i + 1] == Self.newline
                        || (flow > 0 && (bytes[i + 1] == UInt8(ascii: ",") || bytes[i + 1] == UInt8(ascii: "]") || bytes[i + 1] == UInt8(ascii: "}"))):
                        atNodeStart = true
                    case UInt8(ascii: "-") where atNodeStart && flow == 0 && (i + 1 >= bytes.count || bytes[i + 1] == Self.space):
                        atNodeStart = true
                    case UInt8(ascii: "?") where atNodeStart:
                        atNodeStart = true
                    default:
                        // Plain text runs to the next space; in it, & and * are text.
                        atNodeStart = false
                        while i + 1 < bytes.count, !Self.isBreak(bytes[i + 1], inFlow: flow > 0) { i += 1 }
                    }
                    lastSignificant = bytes[i]
                    i += 1
                }
                if flow == 0, lastSignificant == UInt8(ascii: "|") || lastSignificant == UInt8(ascii: ">") || endsWithBlockHeader(before: i) {
                    blockScalarIndent = column
                }
                i = skipLine(i)
            }
            return nil
        }

        static func isBreak(_ b: UInt8, inFlow: Bool) -> Bool {
            b == space || b == tab || b == newline || b == cr || b == UInt8(ascii: ":")
                || (inFlow && (b == UInt8(ascii: ",") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}")))
        }

        /// Whether the line ending at `end` ends in a block scalar header with indicators (`|-`, `>+2`).
        func endsWithBlockHeader(before end: Int) -> Bool {
            var j = end - 1
            while j >= 0, bytes[j] == Self.space || bytes[j] == Self.cr { j -= 1 }
            var k = j
            while k >= 0, bytes[k] == UInt8(ascii: "-") || bytes[k] == UInt8(ascii: "+") || (bytes[k] >= 0x30 && bytes[k] <= 0x39) { k -= 1 }
            return k < j && k >= 1 && (bytes[k] == UInt8(ascii: "|") || bytes[k] == UInt8(ascii: ">")) && bytes[k - 1] == Self.space
        }

        /// Past the end of a quoted scalar starting at `start` (lines it spans are counted).
        mutating func skipQuoted(from start: Int) -> Int? {
            let quote = bytes[start]
            var i = start + 1
            while i < bytes.count {
                let b = bytes[i]
                if b == Self.newline { line += 1 }
                if quote == UInt8(ascii: "\""), b == UInt8(ascii: "\\") { i += 2; continue }
                if b == quote {
                    if quote == UInt8(ascii: "'"), i + 1 < bytes.count, bytes[i + 1] == quote { i += 2; continue }
                    return i + 1
                }
                i += 1
            }
            return nil
        }

        mutating func skipLine(_ start: Int) -> Int {
            var i = start
            while i < bytes.count, bytes[i] != Self.newline { i += 1 }
            if i < bytes.count { line += 1 }
            return i + 1
        }
    }
}
