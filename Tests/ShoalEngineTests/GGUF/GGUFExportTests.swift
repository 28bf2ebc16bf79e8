import Foundation
@testable import ShoalEngine
import XCTest

/// `shoal quantize`: a built-in specialist written as GGUF loads back into Shoal with the logits
/// of the safetensors original, and gguf-py (the reference reader) reads the file.
final class GGUFExportTests: XCTestCase {
    private var mathModel: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("agents/math").path
    }

    private func exported(_ format: GGUFExport.Format) throws -> (path: String, summary: GGUFExport.Summary) {
        let dir = try EngineFixtures.temporaryDirectory(self)
        let path = dir.appendingPathComponent("math-\(format.rawValue).gguf").path
        return (path, try GGUFExport.convert(source: mathModel, destination: path, format: format))
    }

    private let prompts = ["<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n<|im_start|>assistant\n", "2 + 2 = ", "héllo, wörld"]

    func testAnExportedBuiltInSpecialistKeepsItsLogitsAndTokens() throws {
        let original = try Generator.load(path: mathModel)
        for format in GGUFExport.Format.allCases {
            let (path, summary) = try exported(format)
            XCTAssertEqual(summary.architecture, "llama")
            XCTAssertEqual(summary.kept_f16, [], "the built-in's widths are whole 32-blocks")
            let loaded = try Generator.load(path: path, exact: true)
            XCTAssertEqual(loaded.model.config.ropeStyle, .adjacentPairs, "a GGUF Llama holds q/k in llama.cpp's order")
            XCTAssertEqual(loaded.chatTemplate, .chatML(defaultSystemPrompt: nil), "the chat template travels in the file")
            let tokenizer = try XCTUnwrap(loaded.tokenizer), reference = try XCTUnwrap(original.tokenizer)
            // Error bound by format (this model's logits span about ±20): F16 rounds weights at 2^-11, Q8_0 at 1/254 of a block's range, Q4_0 at 1/16.
            let bound: Float = ["F16": 0.01, "Q8_0": 0.3, "Q4_0": 3.0][format.rawValue]!
            for prompt in prompts {
                XCTAssertEqual(tokenizer.encode(prompt), reference.encode(prompt), "\(format): token ids of \(prompt.debugDescription)")
                let ids = reference.encode(prompt)
                let want = try original.model.lastLogits(tokenIds: ids)
                let got = try loaded.model.lastLogits(tokenIds: ids)
                let error = zip(got, want).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(error, bound, "\(format): max abs logit error on \(prompt.debugDescription)")
                if format != .q4_0 {
                    XCTAssertEqual(got.indices.max { got[$0] < got[$1] }, want.indices.max { want[$0] < want[$1] }, "\(format): next token")
                }
            }
        }
    }

    func testGGUFPyReadsTheExportedFile() throws {
        let (path, summary) = try exported(.q8_0)
        let venv = try XCTUnwrap(ProcessInfo.processInfo.environment["SHOAL_VENV"], "make test sets SHOAL_VENV (the venv with gguf-py)")
        let script = """
            import json, sys, gguf
            r = gguf.GGUFReader(sys.argv[1])
            f = r.fields
            print(json.dumps({"architecture": f["general.architecture"].contents(), "blocks": f["llama.block_count"].contents(),
                              "tokens": len(f["tokenizer.ggml.tokens"].data), "template": "chat_template" in str(list(f.keys())),
                              "tensors": {t.name: [t.tensor_type.name, [int(d) for d in t.shape]] for t in r.tensors}}))
            """
        let result = try PythonProcess.run(venv + "/bin/python", ["-c", script, path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["architecture"] as? String, "llama")
        XCTAssertEqual(json["blocks"] as? Int, 4)
        XCTAssertEqual(json["tokens"] as? Int, 261)
        XCTAssertEqual(json["template"] as? Bool, true)
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [Any]])
        XCTAssertEqual(tensors.count, summary.tensors)
        XCTAssertEqual(tensors["blk.0.attn_q.weight"]?.first as? String, "Q8_0")
        XCTAssertEqual(tensors["blk.0.attn_q.weight"]?.last as? [Int], [128, 128])
        XCTAssertEqual(tensors["blk.3.ffn_down.weight"]?.last as? [Int], [352, 128])
        XCTAssertEqual(tensors["output_norm.weight"]?.first as? String, "F32")
    }

    func testATokenizerWithMergesIsRefusedByName() throws {
        let dir = try EngineFixtures.temporaryDirectory(self)
        XCTAssertThrowsError(try GGUFExport.convert(source: EngineFixtures.directory("llama"), destination: dir.appendingPathComponent("x.gguf").path, format: .f16)) {
            XCTAssertTrue("\($0)".contains("merges"), "\($0)")
        }
    }
}
