#!/usr/bin/env python3
"""Writes synthetic math outputs as JSONL for `shoal verify --verifier math` (throughput runs).

Each line is {"id", "output", "answer"}: a few hundred characters of working followed by
the final answer in one of the formats the verifier reads (boxed, ####, "the answer is",
a bare last number), right or wrong. Seeded, so every run writes the same file.
"""
import json, random, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rng = random.Random(5)
for i in range(n):
    a, b = rng.randint(1, 5000), rng.randint(1, 5000)
    answer = a * b
    given = answer if rng.random() < 0.7 else answer + rng.randint(1, 9)
    work = "First multiply %d by %d. " % (a, b) + "We carry the digits step by step. " * rng.randint(3, 10)
    style = rng.choice(["\\boxed{%s}", "#### %s", "So the answer is %s.", "That gives %s"])
    shown = rng.choice(["{:,}".format(given), str(given), "$%d" % given, "%d.0" % given])
    print(json.dumps({"id": i, "output": work + style % shown, "answer": str(answer)}))
