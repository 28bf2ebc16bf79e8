#!/usr/bin/env python3
"""sentence-transformers baseline for `shoal bench retrieval` (BFCL tool retrieval).

Run by the Swift benchmark with a Python that has torch + sentence-transformers (never the
project's .venv), e.g.:
  SHOAL_ST_PYTHON=/work/torchenv/bin/python shoal bench retrieval
Standalone:
  /work/torchenv/bin/python scripts/bench_retrieval_st.py --input texts.json --model-dir DIR --threads 2

--input is a JSON object {"documents": [str], "queries": [str]} written by the benchmark.
Prints one JSON line: documentsPerSecond and queriesPerSecond (one timed pass each, after a
warm-up batch), threads, batchSize, and "top": for each query the row numbers of the
`--top` documents with the highest cosine similarity, best first.
"""
import argparse
import json
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--top", type=int, default=100)
    args = parser.parse_args()
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    with open(args.input) as f:
        data = json.load(f)
    documents, queries = data["documents"], data["queries"]
    model = SentenceTransformer(args.model_dir, device="cpu")
    model.encode(documents[: args.batch_size], batch_size=args.batch_size)  # warm-up

    start = time.perf_counter()
    doc_vectors = model.encode(documents, batch_size=args.batch_size, normalize_embeddings=True)
    doc_seconds = time.perf_counter() - start
    start = time.perf_counter()
    query_vectors = model.encode(queries, batch_size=args.batch_size, normalize_embeddings=True)
    query_seconds = time.perf_counter() - start

    scores = np.asarray(query_vectors, dtype=np.float32) @ np.asarray(doc_vectors, dtype=np.float32).T
    top = min(args.top, len(documents))
    # Stable sort on the negated scores: ties go to the earlier row, as in Shoal's ranking.
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    print(json.dumps({
        "documentsPerSecond": len(documents) / doc_seconds,
        "queriesPerSecond": len(queries) / query_seconds,
        "threads": args.threads,
        "batchSize": args.batch_size,
        "top": order.tolist(),
    }))


if __name__ == "__main__":
    main()
