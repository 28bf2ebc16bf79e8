#!/usr/bin/env python3
"""Baseline for the Swift tokenizer's speed and a large-corpus parity check.

Builds a corpus from text already on the machine (the Python standard library's sources: code,
English comments, docstrings; nothing is downloaded), trains a Qwen2-style byte-level BPE
tokenizer with 32k merges on it, and encodes every line with Hugging Face `tokenizers` on one
thread. Writes, under OUT (default /tmp/shoal-tokenizer-bench):

  tokenizer.json   the trained tokenizer
  corpus.txt       the lines, one per line (newlines inside a line are escaped as \\n by json)
  expected.bin     little-endian int32 ids of every line, each line prefixed by its id count

and prints the baseline's throughput. The Swift side (TokenizerBench in the helper's dev package)
encodes the same lines, compares every id and prints its own throughput.

With --unicode the corpus is instead seeded random text drawn from every assigned code point
class (letters, marks, digits, symbols, spaces of all scripts): a parity stress test of the
character classes, not a speed figure. Its pool holds only code points assigned in this Python's
Unicode version. --style picks the pre-tokenizer (qwen2, llama3, gpt2).

Usage: /work/tokenv/bin/python scripts/tokenizer/bench_encode.py [--style qwen2] [--unicode] [OUT]
"""

import argparse
import glob
import json
import os
import random
import struct
import time
import unicodedata

os.environ.setdefault("RAYON_NUM_THREADS", "1")

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_PATTERN = QWEN2_PATTERN.replace(r"|\p{N}|", r"|\p{N}{1,3}|")


def pre_tokenizer(style):
    if style == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    pattern = QWEN2_PATTERN if style == "qwen2" else LLAMA3_PATTERN
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def python_sources():
    text = ""
    for path in sorted(glob.glob("/usr/lib/python3*/*.py")):
        with open(path, encoding="utf-8", errors="replace") as f:
            text += f.read()
        if len(text) > 8_000_000:
            break
    # Chunks of 20 lines: long enough for real whitespace and indentation runs.
    raw = text.split("\n")
    return ["\n".join(raw[i:i + 20]) for i in range(0, len(raw), 20)]


def random_unicode(count=20_000, assigned_only=True):
    rng = random.Random(20261123)
    # Only code points this Python's Unicode tables know (14.0 for 3.11, the version Oniguruma in
    # `tokenizers` uses): characters assigned later are letters to Swift but unassigned to it.
    pool = [c for c in range(0x20, 0x3_0000)
            if not 0xD800 <= c < 0xE000 and (not assigned_only or unicodedata.category(chr(c)) != "Cn")]
    common = list(" \t\n\r'sStTlLdD0123456789.,!?-") + ["\u00a0", "\u3000", "\u0085", "\u000b", "\u2028"]
    lines = []
    for _ in range(count):
        n = rng.randint(1, 40)
        lines.append("".join(rng.choice(common) if rng.random() < 0.4 else chr(rng.choice(pool)) for _ in range(n)))
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default="/tmp/shoal-tokenizer-bench")
    parser.add_argument("--style", choices=["qwen2", "llama3", "gpt2"], default="qwen2")
    parser.add_argument("--unicode", action="store_true")
    parser.add_argument("--all-code-points", action="store_true", help="with --unicode: unassigned ones too")
    args = parser.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    sources = python_sources()
    lines = random_unicode(assigned_only=not args.all_code_points) if args.unicode else sources

    tok = Tokenizer(models.BPE())
    if args.style == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizer(args.style)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=32_000, show_progress=False, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(sources + lines if args.unicode else lines, trainer)
    tok.save(os.path.join(out, "tokenizer.json"))

    with open(os.path.join(out, "corpus.txt"), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    # Reload, so the first pass starts with an empty word cache as the Swift one does.
    tok = Tokenizer.from_file(os.path.join(out, "tokenizer.json"))
    timings = []
    for _ in ("cold cache", "warm cache"):
        start = time.perf_counter()
        encoded = [tok.encode(line, add_special_tokens=False).ids for line in lines]
        timings.append(time.perf_counter() - start)
    with open(os.path.join(out, "expected.bin"), "wb") as f:
        for ids in encoded:
            f.write(struct.pack(f"<i{len(ids)}i", len(ids), *ids))

    nbytes = sum(len(line.encode()) for line in lines)
    ntokens = sum(len(ids) for ids in encoded)
    print(f"{args.style}{' (random unicode)' if args.unicode else ''} corpus: {len(lines)} chunks, {nbytes / 1e6:.2f} MB, {ntokens} tokens, vocab {tok.get_vocab_size()}")
    for name, seconds in zip(("cold cache", "warm cache"), timings):
        print(f"HF tokenizers {__import__('tokenizers').__version__} encode ({name}), 1 thread: {seconds:.2f} s, "
              f"{nbytes / seconds / 1e6:.2f} MB/s, {ntokens / seconds / 1e3:.0f}k tokens/s")


if __name__ == "__main__":
    main()
