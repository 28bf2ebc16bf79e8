#!/usr/bin/env python3
"""Check that a Shoal GRPO experience export loads the way TRL/verl users load data.

Usage: check_experience_jsonl.py EXPERIENCE.jsonl

Loads the file with `datasets.load_dataset("json", ...)` when the `datasets` package is
installed (what TRL users do), otherwise with the standard json module, then checks every
row: the fields ShoalRL writes (ExperienceRecord), one log-prob per completion token,
finite numbers. It then builds the per-token tensors a verl-style trainer consumes
(responses, old_log_probs, advantages broadcast over the response mask) to show the mapping.
Exit status 0 when every row is valid; 1 with a message naming the row and field otherwise.
"""
import json
import math
import sys

FIELDS = {
    "prompt": str, "completion": str, "prompt_ids": list, "completion_ids": list,
    "completion_logprobs": list, "reward": float, "rewards": dict, "advantage": float,
    "model_version": int, "group_id": str,
}


def load(path):
    try:
        import datasets  # noqa: F401
    except ImportError:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()], "json"
    from datasets import load_dataset
    ds = load_dataset("json", data_files=path, split="train")
    return [dict(row) for row in ds], f"datasets {datasets.__version__}"


def check(rows):
    for i, row in enumerate(rows, 1):
        for name, kind in FIELDS.items():
            if name not in row or row[name] is None:
                raise ValueError(f"row {i}: missing field `{name}`")
            value = row[name]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else isinstance(value, kind)
            if not ok:
                raise ValueError(f"row {i}: `{name}` is {type(value).__name__}, expected {kind.__name__}")
        if len(row["completion_logprobs"]) != len(row["completion_ids"]):
            raise ValueError(f"row {i}: {len(row['completion_logprobs'])} completion_logprobs for "
                             f"{len(row['completion_ids'])} completion_ids")
        numbers = [row["reward"], row["advantage"], *row["completion_logprobs"]]
        numbers += [v for v in row["rewards"].values() if v is not None]
        if not all(math.isfinite(float(x)) for x in numbers):
            raise ValueError(f"row {i}: a number is not finite")


def verl_batch(rows):
    """Right-padded per-token lists, as verl's DataProto holds them (as tensors)."""
    width = max((len(r["completion_ids"]) for r in rows), default=0)
    pad = lambda xs, fill: list(xs) + [fill] * (width - len(xs))
    return {
        "responses": [pad(r["completion_ids"], 0) for r in rows],
        "response_mask": [pad([1] * len(r["completion_ids"]), 0) for r in rows],
        "old_log_probs": [pad(r["completion_logprobs"], 0.0) for r in rows],
        "advantages": [pad([r["advantage"]] * len(r["completion_ids"]), 0.0) for r in rows],
        "uid": [r["group_id"] for r in rows],
    }


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    rows, loader = load(argv[1])
    try:
        check(rows)
    except ValueError as error:
        print(f"{argv[1]}: {error}", file=sys.stderr)
        return 1
    batch = verl_batch(rows)
    groups = len(set(batch["uid"]))
    tokens = sum(map(sum, batch["response_mask"]))
    print(f"{argv[1]}: {len(rows)} rows in {groups} groups, {tokens} completion tokens, loaded with {loader}; "
          f"columns: {', '.join(sorted(rows[0])) if rows else '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
