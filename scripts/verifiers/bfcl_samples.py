#!/usr/bin/env python3
"""Writes BFCL v4 ground-truth answers, rendered as Python calls, as JSONL for Shoal.

  --format verify   {"id", "functions", "output", "expected"}   for `shoal verify --verifier tools`
  --format eval     {"id", "output"}                            for `shoal eval --dataset bfcl:CATEGORY`

Each argument takes its first acceptable value; an optional one ("" acceptable, not
required) is left out. Reads bfcl_eval/data from the given venv (default .venv or $SHOAL_VENV).
"""
import argparse, glob, json, os, sys

parser = argparse.ArgumentParser()
parser.add_argument("--categories", default="simple_python,multiple,parallel,parallel_multiple")
parser.add_argument("--format", choices=["verify", "eval"], default="verify")
parser.add_argument("--venv", default=os.environ.get("SHOAL_VENV", ".venv"))
args = parser.parse_args()

roots = glob.glob(os.path.join(args.venv, "lib", "python3*", "site-packages", "bfcl_eval", "data"))
if not roots:
    sys.exit("bfcl_eval/data not found under %s: run `make test` (its set-up runs "
             "`pip install --no-deps bfcl-eval` into .venv) or pass --venv" % args.venv)


def concrete(answer):
    if isinstance(answer, dict):
        return {k: concrete(v[0]) for k, v in answer.items() if isinstance(v, list) and v and "" not in v}
    if isinstance(answer, list) and any(isinstance(x, dict) for x in answer):
        return [concrete(x) for x in answer]
    return answer


def render(functions, truth):
    calls = []
    for entry in truth:
        (name, answer), = entry.items()
        schema = next((f for f in functions if f["name"] == name), {})
        required = set(schema.get("parameters", {}).get("required", []))
        kwargs = []
        for param, values in answer.items():
            if "" in values and param not in required:
                continue
            value = next(v for v in values if v != "")
            kwargs.append("%s=%r" % (param, concrete(value)))
        calls.append("%s(%s)" % (name, ", ".join(kwargs)))
    return "[" + ", ".join(calls) + "]"


for category in args.categories.split(","):
    def load(path):
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    questions = load(os.path.join(roots[0], "BFCL_v4_%s.json" % category))
    answers = {a["id"]: a["ground_truth"] for a in load(os.path.join(roots[0], "possible_answer", "BFCL_v4_%s.json" % category))}
    for q in questions:
        output = render(q["function"], answers[q["id"]])
        if args.format == "verify":
            print(json.dumps({"id": q["id"], "functions": q["function"], "output": output, "expected": answers[q["id"]]}))
        else:
            print(json.dumps({"id": q["id"], "output": output}))
