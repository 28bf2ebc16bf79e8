#!/usr/bin/env python3
"""sentence-transformers throughput on the workload of EncoderBench (Swift), for comparison.

  HF_HUB_OFFLINE=1 /work/torchenv/bin/python scripts/encoder/bench_sentence_transformers.py --threads 2
Prints one JSON line: sentences, meanTokens, batchSize, threads, sentencesPerSecond (best of repeats).
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(__file__))
from make_fixtures import model_dir  # noqa: E402

WORDS = ["the", "coordinator", "routes", "small", "specialist", "models", "over", "queues", "and",
         "each", "worker", "answers", "with", "a", "verified", "result", "while", "learner", "updates",
         "weights", "from", "rewards", "retrieval", "needs", "sentence", "embeddings", "for", "search",
         "across", "documents", "quickly", "today"]


def workload(count=256):
    return [" ".join(WORDS[(7 * i + 3 * j) % len(WORDS)] for j in range(8 + (13 * i) % 57)) for i in range(count)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(model_dir(), device="cpu")
    texts = workload()
    model.encode(texts[: args.batch_size], batch_size=args.batch_size)
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.encode(texts, batch_size=args.batch_size)
        best = min(best, time.perf_counter() - start)
    tokens = int(model.tokenize(texts)["attention_mask"].sum())
    print(json.dumps({"sentences": len(texts), "meanTokens": tokens / len(texts), "batchSize": args.batch_size,
                      "threads": args.threads, "sentencesPerSecond": len(texts) / best}))


if __name__ == "__main__":
    main()
