#!/usr/bin/env python3
"""Checks that transformers loads a Shoal-trained model directory and computes the same
logits as Shoal. The Shoal side is the JSON that `shoal logits --json` prints
({"token_ids": [...], "last_logits": [...]}); transformers runs the same token ids through
AutoModelForCausalLM.from_pretrained(DIR) in float32 and the last position's logits are
compared. Prints the max abs difference; exits 1 above --tolerance (default 1e-4).

usage:
  shoal logits --model agents/math --prompt "<|im_start|>user\nWhat is 2+3?" --json > /tmp/logits.json
  python scripts/check_transformers_parity.py --model agents/math --logits /tmp/logits.json
(needs torch + transformers, e.g. /work/torchenv/bin/python)
"""
import argparse
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="Shoal-trained model directory (config.json, model.safetensors)")
    ap.add_argument("--logits", required=True, nargs="+", help="JSON file(s) from `shoal logits --json`")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()

    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    worst = 0.0
    for path in args.logits:
        with open(path) as f:
            shoal = json.load(f)
        ids = torch.tensor([shoal["token_ids"]], dtype=torch.long)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, -1].double()
        expected = torch.tensor(shoal["last_logits"], dtype=torch.float64)
        if expected.shape != logits.shape:
            print(f"{path}: Shoal gave {tuple(expected.shape)} logits, transformers {tuple(logits.shape)}")
            return 1
        diff = (logits - expected).abs().max().item()
        same_argmax = int(logits.argmax()) == int(expected.argmax())
        print(f"{path}: {len(shoal['token_ids'])} tokens, max abs diff {diff:.3e}, same argmax: {same_argmax}")
        worst = max(worst, diff)
    print(f"max abs diff {worst:.3e} (tolerance {args.tolerance:g}) {'OK' if worst <= args.tolerance else 'FAIL'}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
