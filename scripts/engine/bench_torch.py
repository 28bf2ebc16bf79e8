#!/usr/bin/env python3
"""PyTorch eager CPU baseline for `shoal bench model`: the same Llama shapes, random
weights, 2 threads, HF `generate` for decoding. Prints one JSON object.

usage: bench_torch.py --config JSON --prompt-tokens P --decode-tokens N --repeats R
"""
import argparse
import json
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def llama_from_shape(c):
    """A random-weight LlamaForCausalLM of the shape `shoal bench model` passes as --config."""
    config = LlamaConfig(vocab_size=c["vocab_size"], hidden_size=c["hidden_size"],
                         intermediate_size=c["intermediate_size"], num_hidden_layers=c["num_hidden_layers"],
                         num_attention_heads=c["num_attention_heads"], num_key_value_heads=c["num_key_value_heads"],
                         max_position_embeddings=4096, tie_word_embeddings=False)
    return LlamaForCausalLM(config).float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--decode-prompt-tokens", type=int, default=16)
    ap.add_argument("--decode-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = json.loads(args.config)
    model = llama_from_shape(c).eval()
    gen = torch.Generator().manual_seed(0)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    with torch.inference_mode():
        prompt = torch.randint(0, c["vocab_size"], (1, args.prompt_tokens), generator=gen)
        model(prompt)  # warm-up
        t = median_time(lambda: model(prompt), args.repeats)
        result["prompt_tokens_per_s"] = args.prompt_tokens / t
        for batch in (1, 8):
            ids = torch.randint(0, c["vocab_size"], (batch, args.decode_prompt_tokens), generator=gen)
            mask = torch.ones_like(ids)
            def generate(n):
                model.generate(ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                               pad_token_id=0, eos_token_id=None)
            generate(2)  # warm-up
            # Decode time = generating N tokens minus generating 1 (prefill + first token).
            full = median_time(lambda: generate(args.decode_tokens + 1), args.repeats)
            first = median_time(lambda: generate(1), args.repeats)
            result[f"decode_b{batch}_tokens_per_s"] = batch * args.decode_tokens / max(full - first, 1e-9)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
