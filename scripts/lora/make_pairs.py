#!/usr/bin/env python3
"""Prompt/completion pairs for `shoal train lora` (the README's adapter table).

    python3 scripts/lora/make_pairs.py OUTDIR

writes OUTDIR/additions.jsonl (300 two-digit additions, answered with the number alone),
OUTDIR/additions-heldout.jsonl (48 more), OUTDIR/tools.jsonl (weather/time questions about 36
cities, answered with one compact JSON tool call) and OUTDIR/tools-heldout.jsonl (14 other cities).
Seeded: the same files every time.
"""
import json
import os
import random
import sys

CITIES = ("Paris London Berlin Madrid Rome Vienna Prague Warsaw Lisbon Dublin Oslo Stockholm Helsinki Copenhagen "
          "Athens Budapest Zurich Geneva Brussels Amsterdam Munich Milan Naples Seville Porto Krakow Tokyo Osaka Seoul "
          "Beijing Shanghai Delhi Mumbai Cairo Lagos Nairobi Sydney Melbourne Toronto Vancouver Chicago Boston Denver "
          "Seattle Miami Dallas Houston Lima Bogota Santiago").split()
FORMS = [("What is the weather in {}?", "get_weather"), ("Is it raining in {}?", "get_weather"),
         ("What time is it in {}?", "get_time"), ("Tell me the local time in {}.", "get_time")]


def additions(count, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        out.append({"prompt": f"What is {a} + {b}?", "completion": str(a + b)})
    return out


def tool_call(city, form):
    text, tool = form
    call = json.dumps({"name": tool, "arguments": {"city": city}}, separators=(",", ":"))
    return {"prompt": text.format(city), "completion": call}


def write(path, pairs):
    with open(path, "w") as f:
        for p in pairs:
            f.write(json.dumps(p) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "additions.jsonl"), additions(300, 1))
    write(os.path.join(out, "additions-heldout.jsonl"), additions(48, 2))
    cities = list(CITIES)
    random.Random(3).shuffle(cities)
    train, held = cities[:36], cities[36:]
    write(os.path.join(out, "tools.jsonl"), [tool_call(c, f) for c in train for f in FORMS])
    write(os.path.join(out, "tools-heldout.jsonl"), [tool_call(c, f) for c in held for f in FORMS[::2]])


if __name__ == "__main__":
    main()
