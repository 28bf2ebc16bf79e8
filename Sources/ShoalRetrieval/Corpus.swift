import Foundation
import ShoalJSON
import ShoalVerifiers

/// Reads corpora in JSON Lines: one object per line with a string `id` (unique) and a
/// string `text` (not blank); other string, number or boolean fields become metadata.
/// Blank lines are skipped. Any other shape is refused with the line and field named.
public enum Corpus {
    public static func read(path: String) throws(RetrievalError) -> [RetrievalDocument] {
        guard FileManager.default.fileExists(atPath: path) else { throw .io(path: path, reason: "file not found") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot read the file") }
        let documents = try parse(data, path: path)
        guard !documents.isEmpty else { throw .emptyCorpus(path: path) }
        return documents
    }

    /// Parses JSON Lines; `path` is only for messages. An empty result is not an error here.
    public static func parse(_ data: Data, path: String) throws(RetrievalError) -> [RetrievalDocument] {
        var documents: [RetrievalDocument] = []
        var firstLine: [String: Int] = [:]
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let bytes = Array(line)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let document = try parseLine(bytes, path: path, line: lineNumber)
            if firstLine[document.id] != nil { throw .duplicateId(id: document.id, path: path, line: lineNumber) }
            firstLine[document.id] = lineNumber
            documents.append(document)
        }
        return documents
    }

    static func parseLine(_ bytes: [UInt8], path: String, line: Int) throws(RetrievalError) -> RetrievalDocument {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw .malformedLine(path: path, line: line, field: "(line)", reason: "is not valid JSON: \(error)")
        }
        guard var object = value.objectValue else {
            throw .malformedLine(path: path, line: line, field: "(line)", reason: "must be a JSON object with \"id\" and \"text\"")
        }
        guard let idValue = object.removeValue(forKey: "id") else {
            throw .malformedLine(path: path, line: line, field: "id", reason: "is missing")
        }
        guard let id = idValue.stringValue, !id.isEmpty else {
            throw .malformedLine(path: path, line: line, field: "id", reason: "must be a non-empty string, got \(idValue.jsonText)")
        }
        guard let textValue = object.removeValue(forKey: "text") else {
            throw .malformedLine(path: path, line: line, field: "text", reason: "is missing")
        }
        guard let text = textValue.stringValue, !text.allSatisfy(\.isWhitespace) else {
            throw .malformedLine(path: path, line: line, field: "text", reason: "must be a non-blank string, got \(textValue.jsonText)")
        }
        for (key, field) in object.sorted(by: { $0.key < $1.key }) {
            switch field {
            case .string, .int, .double, .bool: continue
            default:
                throw .malformedLine(path: path, line: line, field: key,
                                     reason: "must be a string, number or boolean (metadata is flat), got \(field.jsonText)")
            }
        }
        return RetrievalDocument(id: id, text: text, metadata: object)
    }

    /// JSON Lines text for `documents`, one object per line, keys sorted.
    public static func jsonLines(_ documents: [RetrievalDocument]) -> String {
        documents.map { $0.jsonLine + "\n" }.joined()
    }
}
