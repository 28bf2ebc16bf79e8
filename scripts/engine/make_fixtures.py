#!/usr/bin/env python3
"""Builds the engine's reference fixtures (Tests/ShoalEngineTests/Fixtures/models/).

Needs torch, transformers, tokenizers, safetensors (kept out of the project venv):
    python3 -m venv /work/torchenv
    /work/torchenv/bin/pip install torch transformers tokenizers safetensors
    /work/torchenv/bin/python scripts/engine/make_fixtures.py

Everything is seeded, so re-running reproduces the same weights and references (for
the same torch/transformers versions). Each model directory holds what the hub would
(config.json, safetensors, tokenizer.json) plus reference.json:
    prompts: [{token_ids, positions, logits: [[vocab floats] per position],
               greedy: {token_ids (32), logprobs}}]
"""
import json
import math
import os
import shutil
import sys

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
import transformers
from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          Qwen3Config, Qwen3ForCausalLM)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "ShoalEngineTests", "Fixtures", "models")
VOCAB = 512
GREEDY_TOKENS = 32

PROMPTS = [
    "Hello",
    "def add(a, b):\n    return a + b",
    "The specialist answers the question: what is 12 times 7? The answer is",
]


def corpus():
    words = ("the model routes each task to a small specialist that answers math code "
             "and tool questions quickly def return import print value result sum of "
             "numbers list string hello world answer question worker coordinator").split()
    lines = []
    for i in range(2000):
        a, b = (i * 7) % 97, (i * 13) % 89
        w = " ".join(words[(i * k) % len(words)] for k in range(1, 9))
        lines.append(f"{w}. What is {a} plus {b}? The answer is {a + b}.")
        lines.append(f"def f{i % 10}(x):\n    return x * {a} + {b}\n")
    return lines


def train_tokenizer(path):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok.save(path)
    return tok


COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              rms_norm_eps=1e-5, initializer_range=0.1, bos_token_id=0, eos_token_id=0)


def variants():
    return [
        ("llama", LlamaForCausalLM,
         LlamaConfig(**COMMON, tie_word_embeddings=False,
                     rope_parameters={"rope_type": "default", "rope_theta": 10000.0}), {}),
        ("llama3_rope", LlamaForCausalLM,
         LlamaConfig(**COMMON, tie_word_embeddings=False,
                     rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                      "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                      "original_max_position_embeddings": 64}), {}),
        ("llama_tied_linear", LlamaForCausalLM,
         LlamaConfig(**COMMON, tie_word_embeddings=True,
                     rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}), {}),
        ("qwen2_sharded", Qwen2ForCausalLM,
         Qwen2Config(**COMMON, tie_word_embeddings=False,
                     rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
         {"max_shard_size": "150KB"}),
        ("qwen3", Qwen3ForCausalLM,
         Qwen3Config(**COMMON, head_dim=32, tie_word_embeddings=False,
                     rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}), {}),
    ]


@torch.no_grad()
def references(model, prompt_ids):
    out = []
    for ids in prompt_ids:
        x = torch.tensor([ids])
        logits = model(x).logits[0].float()
        positions = sorted({0, len(ids) // 2, len(ids) - 1})
        seq = list(ids)
        greedy, logprobs, margin = [], [], math.inf
        for _ in range(GREEDY_TOKENS):
            last = model(torch.tensor([seq])).logits[0, -1].float()
            top2 = torch.topk(last, 2).values
            margin = min(margin, float(top2[0] - top2[1]))
            token = int(torch.argmax(last))
            logprobs.append(float(torch.log_softmax(last, -1)[token]))
            greedy.append(token)
            seq.append(token)
        out.append({
            "token_ids": ids,
            "positions": positions,
            "logits": [[round(float(v), 7) for v in logits[p]] for p in positions],
            "greedy": {"token_ids": greedy, "logprobs": [round(v, 7) for v in logprobs],
                       "min_top2_margin": margin},
        })
    return out


def legacy_layout(config_path, out_path):
    """Rewrites transformers-5 `rope_parameters` into the older top-level layout
    (`rope_theta` + `rope_scaling`), so both layouts are covered by one set of weights."""
    with open(config_path) as f:
        cfg = json.load(f)
    params = cfg.pop("rope_parameters")
    cfg["rope_theta"] = params.pop("rope_theta")
    if params.get("rope_type", "default") != "default":
        params["type"] = params["rope_type"]  # very old checkpoints spell it `type`
        cfg["rope_scaling"] = params
    with open(out_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def write_reference(directory, arch, refs, extra=None):
    doc = {"generator": f"torch {torch.__version__}, transformers {transformers.__version__}",
           "architecture": arch, "prompts": refs}
    doc.update(extra or {})
    with open(os.path.join(directory, "reference.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    tok_path = os.path.join(OUT, "tokenizer.json")
    tok = train_tokenizer(tok_path)
    prompt_ids = [tok.encode(p).ids for p in PROMPTS]
    for seed, (name, cls, config, save_kwargs) in enumerate(variants()):
        torch.manual_seed(1000 + seed)
        config._attn_implementation = "eager"
        model = cls(config).float().eval()
        d = os.path.join(OUT, name)
        model.save_pretrained(d, safe_serialization=True, **save_kwargs)
        shutil.copy(tok_path, os.path.join(d, "tokenizer.json"))
        refs = references(model, prompt_ids)
        write_reference(d, cls.__name__, refs, {"prompt_texts": PROMPTS})
        legacy_layout(os.path.join(d, "config.json"), os.path.join(d, "config.legacy-layout.json"))
        if name == "llama":
            # bf16 checkpoint; its references come from the bf16-rounded weights in fp32.
            bd = os.path.join(OUT, "llama_bf16")
            # A fresh fp32 model takes the rounded weights: `.to(bfloat16)` on the model
            # would also round RoPE's inv_freq buffer, which loaders recompute in fp32.
            rounded = {k: v.to(torch.bfloat16).float() for k, v in model.state_dict().items()}
            reference_model = cls(config).float().eval()
            reference_model.load_state_dict(rounded)
            cls(config).to(torch.bfloat16).save_pretrained(bd, safe_serialization=True,
                                                           state_dict={k: v.to(torch.bfloat16) for k, v in rounded.items()})
            shutil.copy(tok_path, os.path.join(bd, "tokenizer.json"))
            write_reference(bd, cls.__name__, references(reference_model, prompt_ids),
                            {"prompt_texts": PROMPTS})
        margins = [r["greedy"]["min_top2_margin"] for r in refs]
        print(f"{name}: greedy top-2 margins {['%.2e' % m for m in margins]}", file=sys.stderr)
    os.remove(tok_path)
    for dirpath, _, files in os.walk(OUT):
        for f in files:
            if f == "generation_config.json":
                continue
            p = os.path.join(dirpath, f)
            print(f"{os.path.relpath(p, OUT)}: {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
