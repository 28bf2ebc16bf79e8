#!/usr/bin/env python3
"""Build the tokenizer parity fixtures for ShoalEngine's Swift tokenizers.

Trains small byte-level BPE tokenizers with the Hugging Face `tokenizers` library on an
inline corpus (nothing is downloaded), shaped like the real families Shoal loads:

  qwen2   NFC + Split(Qwen2 regex, isolated) + ByteLevel(use_regex=false), merges as lists,
          special and non-special added tokens (one with normalized=true)
  llama3  Split(Llama-3 regex) + ByteLevel(use_regex=false), ignore_merges, TemplateProcessing
          that prepends <|begin_of_text|>, added tokens with rstrip and single_word
  gpt2    plain ByteLevel (GPT-2 regex), add_prefix_space=false, merges in the legacy "a b" form,
          a <mask> added token with lstrip
  smollm  Digits(individual_digits) + ByteLevel(add_prefix_space=true), same model as gpt2
  splits  every Split behaviour (literal and regex patterns, invert) + Digits, same model as gpt2
  bytes   Shoal's ByteTokenizer layout (ids 0-255 are bytes, then its special tokens)

For a fixed set of strings (plus seeded random ones) it records the ids `tokenizers` gives,
with and without special tokens, and decodes (whole, skipping specials, one id at a time).
The Swift tests compare against these files, so they pass without Python.

Usage: python3 -m venv /work/tokenv && /work/tokenv/bin/pip install tokenizers==0.23.3
       /work/tokenv/bin/python scripts/tokenizer/make_fixtures.py
"""

import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "ShoalEngineTests", "Fixtures", "tokenizer")
SEED = 20261123

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS_PARAGRAPHS = [
    "The coordinator routes each sub-task to a small specialist model, checks the answer with a "
    "verifier and feeds the reward back to the learner. It's fast, it'll scale, and we've tested it.",
    "Small language models are cheap to run. They're trained on narrow tasks: math, code, retrieval "
    "and tool calls. I'd rather ship ten tiny experts than one giant generalist.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n\n"
    "for i in range(10):\n\tprint(i, fibonacci(i))\n",
    "func encode(_ text: String) -> [Int] {\n    let pieces = text.split(separator: \" \")\n"
    "    return pieces.map { $0.count }\n}\n",
    "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\", \"days\": 3}}",
    "Compute 12345 * 6789 = 83810205. Then 3.14159 + 2.71828 = 5.85987. The year 2026 has 365 days.",
    "The answer is \\boxed{42}. Let x = 7; then x^2 + 3x - 10 = 60. Check: 49 + 21 - 10 = 60.",
    "東京は日本の首都です。今日はいい天気ですね。機械学習のモデルを訓練しています。",
    "我们正在训练一个小型语言模型。这个模型可以解决数学问题和编写代码。",
    "Café, naïve, résumé, façade, coöperate, Ångström, Straße, Ελληνικά, русский язык, 한국어 텍스트.",
    "Emoji: 😀 😂 👍 🎉 ❤️ 👨‍👩‍👧‍👦 🇯🇵 👋🏽 1️⃣ — fun stuff!!! ... ??? ---",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    "    indented line\n\t\ttabbed line\n\n\n  trailing spaces   \nWindows\r\nline\r\nendings\r\n",
    "Long ſ: it'ſtuff, 'ſo.\nline\nbreaks\r\nbefore\n\nwords\n\tand\n  more",
    "Don't, won't, can't, shouldn't, I'm, you're, they've, she'll, he'd, IT'S, WE'RE, THEY'LL.",
    "Stop!\nGo!\nWait...\nDone.\r\nOK?\n\nYes!\n",
    "'REALLY 'Sorry 'LLama 'Very 'Made 'Did 'There 'Those",
    "x\U00010D50\U00010D51 y\U00011BC0\U00011BC1 z\U00016EA0\U00016EA1 w\U00011DB0\U00011DB1 v",
]


def corpus():
    rng = random.Random(SEED)
    words = " ".join(CORPUS_PARAGRAPHS).split()
    lines = list(CORPUS_PARAGRAPHS) * 20
    for _ in range(400):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 15))))
    return lines


def train(pre_tokenizer, specials, vocab_size=1000, normalizer=None):
    """Trains on whole lines (no regex split), then installs `pre_tokenizer`: merges that cross
    the final pre-tokenizer's boundaries ("Ċdef", "12", "'REALLY") make every boundary it draws
    visible in the ids, so a scanner that cuts in the wrong place fails the fixtures."""
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus(), trainer)
    tok.pre_tokenizer = pre_tokenizer
    return tok


def edit(tok, change):
    """Round-trip through JSON to set fields the Python API does not expose."""
    data = json.loads(tok.to_str())
    change(data)
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


def build_qwen2():
    tok = train(
        pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]),
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        normalizer=normalizers.NFC(),
    )
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_tokens([
        AddedToken("<think>", special=False, normalized=False),
        AddedToken("</think>", special=False, normalized=False),
        AddedToken("café", special=False, normalized=True),
    ])
    return tok


def build_llama3():
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok = train(
        pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]),
        specials,
    )
    tok.add_tokens([
        AddedToken("<sep>", rstrip=True, special=False, normalized=False),
        AddedToken("word", single_word=True, special=False, normalized=False),
    ])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
            special_tokens=[("<|begin_of_text|>", bos)],
        ),
    ])

    def ignore_merges(data):
        data["model"]["ignore_merges"] = True
    return edit(tok, ignore_merges)


def build_gpt2():
    tok = train(pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), ["<|endoftext|>"])
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, special=True, normalized=False)])
    return tok


def write_with_legacy_merges(path):
    """`tokenizers` saves merges as [["a", "b"]]; GPT-2-era files on disk still say "a b"."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    # The legacy form must load to the same tokenizer.
    return Tokenizer.from_file(path)


def build_smollm(gpt2):
    def digits_and_prefix_space(data):
        data["pre_tokenizer"] = {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            ],
        }
    return edit(gpt2, digits_and_prefix_space)


def build_splits(gpt2):
    """Every Split behaviour, invert, a literal pattern and Digits(contiguous) in one chain."""
    def chain(data):
        data["pre_tokenizer"] = {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedWithNext", "invert": False},
                {"type": "Split", "pattern": {"String": ","}, "behavior": "MergedWithPrevious", "invert": False},
                {"type": "Split", "pattern": {"Regex": "[!?]+"}, "behavior": "Removed", "invert": False},
                {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Contiguous", "invert": True},
                {"type": "Split", "pattern": {"Regex": "[aeiou]"}, "behavior": "Isolated", "invert": True},
                {"type": "Digits", "individual_digits": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        }
    return edit(gpt2, chain)


BYTE_SPECIALS = ["<|bos|>", "<|eos|>", "<|pad|>", "<|im_start|>", "<|im_end|>"]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def build_bytes():
    """The layout ByteTokenizer implements, as a tokenizer.json `tokenizers` can run."""
    table = bytes_to_unicode()
    data = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": 256 + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i, t in enumerate(BYTE_SPECIALS)
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {table[b]: b for b in range(256)}, "merges": []},
    }
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


FIXED_STRINGS = [
    "",
    "Hello, world!",
    "hello world",
    " leading space",
    "trailing spaces   ",
    "   ",
    " ",
    "\n",
    "\n\n\n",
    "a\n\nb",
    "tabs\tand\t\tmore\ttabs",
    "line one\r\nline two\r\n",
    "Stop!\nGo!\nWait...\n\nDone.\r\n",
    "mixed \t \n  \n\t whitespace",
    "The quick brown fox jumps over the lazy dog.",
    "It's, it'S, IT'S, they're, we've, I'm, you'll, he'd, don't, 'tis",
    "'s 'S 'll 'LL 're 've 'm 'd 'x",
    "WE'REALLY THEY'LLAMA it'Sorry 'DOn't 'Very 'mE",
    "12 123 1234 12345 in 2026, 3.14159 and 100000",
    "Numbers: 1 12 123 1234 12345 123456 1234567890 3.14159 -42 1,000,000 0x1F",
    "99999999999999999999999999999999",
    "東京は日本の首都です。",
    "我们正在训练一个小型语言模型。",
    "한국어 텍스트와 English mixed",
    "Ελληνικά και русский язык",
    "العربية مرحبا",
    "हिन्दी भाषा",
    "Emoji 😀😂👍🎉",
    "Family 👨‍👩‍👧‍👦 flag 🇯🇵 wave 👋🏽 keycap 1️⃣ heart ❤️",
    "🧑🏽‍💻 coding",
    "def f(x):\n    return x * 2\n\n\nclass A:\n\tpass\n",
    "if (a && b) { return c[0]->d; }  // comment",
    "    indented\n        deeper\n",
    "Café naïve résumé",
    "Cafe\u0301 nai\u0308ve re\u0301sume\u0301",
    "e\u0301\u0301\u0301",
    "cafe\u0301 and café",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more text",
    "<|im_end|><|im_end|>",
    "<|im_start",
    "<|im_start|<|im_start|>|>",
    "<think>reasoning here</think>answer",
    "a <mask> b  <mask>",
    "x <sep>  y<sep>\tz <sep>",
    "word swordfish word_ wordy (word) 1word wordé word",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|bos|>hi<|eos|><|pad|>",
    "\u00a0non-breaking\u00a0space\u3000ideographic",
    "vertical\u000btab and\u000cform feed and\u0085next line",
    "\u2028line separator\u2029paragraph",
    "zero\u200bwidth\u200djoiner",
    "long ſ: it'ſ it'ſtuff 'ſo",
    "URL: https://example.com/path?q=1&r=two#frag",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "x^2 + 3x - 10 = 0 → x ∈ {2, -5}",
    "!!!???...---___***",
    "Ünïcödé ÄÖÜ äöü ß",
    "\u0000nul and \u0001 control \u007f",
    "\uFFFD replacement char",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 math",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    # Letters from Unicode 16 (Garay, Sunuwar) and 17 (Beria Erfe, Tolong Siki): the reference
    # library knows the first, not the second.
    "x\U00010D50\U00010D51 y\U00011BC0\U00011BC1 z\U00016EA0\U00016EA1 w\U00011DB0\U00011DB1 v",
]

RANDOM_POOL = list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 '\t\n\r.,;:!?-_()[]{}<>|/\\\"") + [
    "é", "e\u0301", "ß", "東", "京", "の", "我", "们", "😀", "👍", "\u200d", "\u00a0", "\u3000", "١", "²", "½",
    "<|im_end|>", "<|endoftext|>", "<think>", "'s", "'LL", "  ", "\n\n", "\r\n", "123", "ſ",
]


def random_strings(count=40):
    rng = random.Random(SEED)
    out = []
    for _ in range(count):
        n = rng.randint(1, 30)
        out.append("".join(rng.choice(RANDOM_POOL) for _ in range(n)))
    return out


def record(tok, strings):
    cases = []
    for text in strings:
        with_specials = tok.encode(text, add_special_tokens=True).ids
        without = tok.encode(text, add_special_tokens=False).ids
        cases.append({
            "text": text,
            "ids": with_specials,
            "ids_without_special_tokens": without,
            "decoded": tok.decode(with_specials, skip_special_tokens=False),
            "decoded_skipping_special_tokens": tok.decode(with_specials, skip_special_tokens=True),
            "decoded_one_by_one": [tok.decode([i], skip_special_tokens=False) for i in without],
        })
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    gpt2 = build_gpt2()
    tokenizers = {
        "qwen2": build_qwen2(),
        "llama3": build_llama3(),
        "gpt2": gpt2,
        "smollm": build_smollm(gpt2),
        "splits": build_splits(gpt2),
        "bytes": build_bytes(),
    }
    strings = FIXED_STRINGS + random_strings()
    for name, tok in tokenizers.items():
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "tokenizer.json")
        tok.save(path, pretty=False)
        if name == "gpt2":
            tok = write_with_legacy_merges(path)
        with open(os.path.join(folder, "expected.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizer": name, "cases": record(tok, strings)}, f, ensure_ascii=False, indent=0)
        print(f"{name}: vocab {tok.get_vocab_size(with_added_tokens=True)}")
    with open(os.path.join(OUT, "qwen2", "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}, f, indent=1)
    with open(os.path.join(OUT, "llama3", "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({
            "bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>", "lstrip": False,
                          "normalized": False, "rstrip": False, "single_word": False},
            "eos_token": "<|eot_id|>",
        }, f, indent=1)


if __name__ == "__main__":
    main()
