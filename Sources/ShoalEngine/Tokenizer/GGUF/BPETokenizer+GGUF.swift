extension BPETokenizer {
    /// A byte-level BPE vocabulary from GGUF metadata (`tokenizer.ggml.model` = `gpt2`: SmolLM,
    /// Llama 3, Qwen2), read as llama.cpp reads it: `tokens` in GPT-2's byte alphabet, `merges` as
    /// "left right" in rank order, the pre-tokenizer named by `tokenizer.ggml.pre`, and control and
    /// user-defined tokens matched whole in the text.
    init(gguf file: GGUFFile) throws {
        let pre = try GGUFPreTokenizer(file)
        let vocabulary = try GGUFVocabulary(file, addsBOSByDefault: pre.addsBOSByDefault)
        let ids = try vocabulary.idsBySpelling()
        let merges = try Self.readMerges(file, ids: ids)
        let specialTokens = vocabulary.specialTokens
        var specialIds: [String: Int] = [:]
        for token in specialTokens.tokens { specialIds[token.content] = token.id }

        self.init(
            model: BPEModel(vocabulary: ids, merges: merges, ignoreMerges: pre.ignoresMerges, unknownId: nil),
            normalizesToNFC: false,
            rawAddedTokens: specialTokens,
            normalizedAddedTokens: AddedVocabulary([]),
            preTokenizer: try pre.preTokenizer(),
            template: vocabulary.template,
            vocabulary: ids,
            addedTokenIds: specialIds,
            tokenBytes: vocabulary.tokens.map { Optional(ByteLevelAlphabet.decode($0)) },
            tokenSpellings: vocabulary.tokens.map { Optional($0) },
            specialIds: vocabulary.skippedIds,
            bosTokenId: vocabulary.bosTokenId,
            eosTokenId: vocabulary.eosTokenId)
    }

    /// `tokenizer.ggml.merges`: "left right", split at the first space after the first character
    /// (as llama.cpp does), both sides and their concatenation tokens. A pair listed twice keeps its
    /// first rank, as llama.cpp's rank map does.
    private static func readMerges(_ file: GGUFFile, ids: [String: Int]) throws -> [BPEModel.ResolvedMerge] {
        let key = "tokenizer.ggml.merges"
        let lines = try file.strings(key)
        func invalid(_ index: Int, _ reason: String) -> GGUFError {
            .invalidValue(path: file.path, key: key, reason: "entry \(index) \(lines[index].debugDescription) \(reason)")
        }
        var merges: [BPEModel.ResolvedMerge] = []
        merges.reserveCapacity(lines.count)
        var seen = Set<UInt64>(minimumCapacity: lines.count)
        for (index, line) in lines.enumerated() {
            let utf8 = line.utf8
            guard let first = utf8.first, first != UInt8(ascii: " "),
                  let space = utf8.dropFirst().firstIndex(of: UInt8(ascii: " ")) else {
                throw invalid(index, "is not two tokens separated by a space")
            }
            let left = String(line[..<space]), right = String(line[line.index(after: space)...])
            guard let leftId = ids[left] else { throw invalid(index, "names \(left.debugDescription), which is not a token") }
            guard let rightId = ids[right] else { throw invalid(index, "names \(right.debugDescription), which is not a token") }
            guard let resultId = ids[left + right] else {
                throw invalid(index, "makes \((left + right).debugDescription), which is not a token")
            }
            let merge = BPEModel.ResolvedMerge(left: Int32(leftId), right: Int32(rightId), result: Int32(resultId))
            if seen.insert(BPEModel.pairKey(merge.left, merge.right)).inserted { merges.append(merge) }
        }
        return merges
    }
}
