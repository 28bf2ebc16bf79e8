#!/usr/bin/env python3
"""PyTorch eager CPU baseline for the training row of `shoal bench model`: one training
step (forward + backward + AdamW) of a random-weight Llama of the given shape on a batch
of random tokens, 2 threads by default. Prints one JSON object: step_ms (median), tok_s.

usage: bench_torch_train.py --config JSON --batch 8 --sequence 128 --repeats 5 --threads 2
"""
import argparse
import json
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--sequence", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = json.loads(args.config)
    config = LlamaConfig(vocab_size=c["vocab_size"], hidden_size=c["hidden_size"],
                         intermediate_size=c["intermediate_size"], num_hidden_layers=c["num_hidden_layers"],
                         num_attention_heads=c["num_attention_heads"], num_key_value_heads=c["num_key_value_heads"],
                         max_position_embeddings=4096, tie_word_embeddings=False)
    model = LlamaForCausalLM(config).float().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, c["vocab_size"], (args.batch, args.sequence), generator=gen)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()

    step()  # warm-up: allocations, optimizer state
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "step_ms": median * 1000, "tok_s": args.batch * args.sequence / median}))


if __name__ == "__main__":
    main()
