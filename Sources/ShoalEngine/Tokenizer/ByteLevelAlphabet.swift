/// GPT-2's reversible map from bytes to printable characters, used by every byte-level BPE
/// vocabulary: printable Latin-1 bytes stand for themselves, the other 68 bytes are shifted to
/// U+0100 and up (so a space is "Ġ" and a newline "Ċ").
enum ByteLevelAlphabet {
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(shifted)!  // 256..<324 are all valid scalars
                shifted += 1
            }
        }
        return table
    }()

    static let bytes: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in characters.enumerated() { map[scalar] = UInt8(byte) }
        return map
    }()

    /// Bytes a vocabulary spelling stands for. Like Hugging Face's ByteLevel decoder, a token with
    /// a character outside the alphabet (an added token such as "<think>\n") is taken literally.
    static func decode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = bytes[scalar] else { return Array(token.utf8) }
            out.append(byte)
        }
        return out
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(characters[Int(byte)]) }
        return String(view)
    }
}
