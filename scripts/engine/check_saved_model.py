#!/usr/bin/env python3
"""Checks that a model directory written by Shoal's SafetensorsWriter
(`DecoderModel.save`) loads in `safetensors` and `transformers`, and prints the
transformers logits for the last position so they can be compared with
`shoal logits --json`.

usage: check_saved_model.py DIR TOKEN_ID [TOKEN_ID ...]
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def main():
    directory, ids = sys.argv[1], [int(t) for t in sys.argv[2:]]
    tensors = load_file(os.path.join(directory, "model.safetensors"))
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1]
    print(json.dumps({"tensors": len(tensors), "class": type(model).__name__,
                      "last_logits": [float(v) for v in logits]}))


if __name__ == "__main__":
    main()
