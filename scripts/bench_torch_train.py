#!/usr/bin/env python3
"""PyTorch eager CPU baseline for the training row of `shoal bench model`: one training
step (forward + backward + AdamW) of a random-weight Llama of the given shape on a batch
of random tokens, 2 threads by default. Prints one JSON object: step_ms (median), tokens_per_s.

usage: bench_torch_train.py --config JSON --batch 8 --sequence 128 --repeats 5 --threads 2
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine"))
from bench_torch import llama_from_shape, median_time  # noqa: E402  (the inference baseline's helpers)


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
    model = llama_from_shape(c).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, c["vocab_size"], (args.batch, args.sequence), generator=gen)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()

    step()  # warm-up: allocations, optimizer state
    median = median_time(step, args.repeats)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "step_ms": median * 1000, "tokens_per_s": args.batch * args.sequence / median}))


if __name__ == "__main__":
    main()
