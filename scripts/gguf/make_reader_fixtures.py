#!/usr/bin/env python3
"""Generate tiny GGUF files + a JSON description for GGUF reader tests.

What it makes (in Tests/ShoalEngineTests/Fixtures/gguf/reader/)
    tiny.gguf          GGUF v3, little-endian, default alignment (32, no general.alignment key).
                       Metadata of every scalar value type (uint8, int8, uint16, int16, uint32,
                       int32, float32, bool, string, uint64, int64, float64), including edge values
                       (min/max ints, empty string, non-ASCII string), arrays of ints / floats /
                       strings / bools / 64-bit ints / doubles, and an EMPTY array (written with a
                       small GGUFWriter subclass because GGUFWriter refuses empty arrays).
                       Tensors: F32 [8,4], F16 [5,3], F32 [7], F32 [4,3,2], Q8_0 [32,2], Q4_K [256,1]
                       (shapes in GGUF order, fastest dimension first).
    tiny-align64.gguf  same content plus general.alignment = 64 (uint32), so the data section
                       and tensor offsets are 64-aligned.
    tiny-v2.gguf       same content as tiny.gguf written by GGUFWriter with the header version
                       patched to 2 (gguf.gguf_writer.GGUF_VERSION monkeypatched). For little-endian
                       files v2 and v3 are structurally identical (v2 introduced the 64-bit
                       counts/lengths, v3 only added big-endian support), so the file differs from
                       tiny.gguf in the version field only (bytes 4..7) -- asserted below.
    tiny-nested.gguf   tiny.gguf plus one key holding a nested array (array of arrays of int32).
                       Kept in a separate file because ggml's C reader (gguf.cpp) rejects
                       nested arrays ("invalid GGUF type"), although the spec and gguf-py allow them.
    tiny.json          {"files":[{"file","version","alignment","data_offset","kv_count",
                                  "tensor_count","keys":[...],"tensors":[...]} ...]}
                       keys (file order): {"key","type","type_id","value"} and, for arrays,
                       "array_type"/"array_type_id" (nested arrays: value is a list of
                       {"array_type","array_type_id","value"} objects). float32 values are the
                       exact float32 value printed as a double. 64-bit integers additionally carry
                       "value_str" (decimal string) so JSON parsers that go through Double lose
                       nothing.
                       tensors (file order): {"name","ggml_type","ggml_type_name","shape"(GGUF
                       order, ne0 first),"n_elements","n_bytes","offset"(relative to the data
                       section),"values"(dequantized float32 as numbers)}
                       data_offset is the absolute file offset of the data section
                       (= end of tensor infos rounded up to the alignment).

What it needs
    /work/refenv (gguf 0.19.0, numpy). No model files.

Rerun (from the repository root; deterministic, < 2 s)
    /work/refenv/bin/python scripts/gguf/make_reader_fixtures.py
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import gguf
import gguf.gguf_writer as gw
from gguf import GGMLQuantizationType as T, GGUFValueType as V

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "Tests/ShoalEngineTests/Fixtures/gguf/reader"
SEED = 1234


class Writer(gguf.GGUFWriter):
    """GGUFWriter that can also write empty arrays (element type from sub_type)."""

    def _pack_val(self, val, vtype, add_vtype, sub_type=None):  # type: ignore[override]
        if vtype == V.ARRAY and len(val) == 0:
            b = bytearray()
            if add_vtype:
                b += self._pack("I", vtype)
            b += self._pack("I", sub_type if sub_type is not None else V.UINT8)
            b += self._pack("Q", 0)
            return bytes(b)
        return super()._pack_val(val, vtype, add_vtype, sub_type)


def f32(x: float) -> float:
    return float(np.float32(x))


# (key, value, type, sub_type). Order = file order (after general.architecture, which
# GGUFWriter always writes first, and general.alignment where present, which comes last).
def metadata(nested: bool):
    kv = [
        ("general.name", "tiny fixture", V.STRING, None),
        ("test.uint8", 200, V.UINT8, None),
        ("test.uint8.max", 255, V.UINT8, None),
        ("test.int8", -100, V.INT8, None),
        ("test.int8.min", -128, V.INT8, None),
        ("test.uint16", 65535, V.UINT16, None),
        ("test.int16", -32768, V.INT16, None),
        ("test.uint32", 4000000000, V.UINT32, None),
        ("test.int32", -2147483648, V.INT32, None),
        ("test.int32.pos", 123456789, V.INT32, None),
        ("test.float32", 3.14159, V.FLOAT32, None),
        ("test.float32.neg_tiny", -1.5e-39, V.FLOAT32, None),  # float32 subnormal
        ("test.float32.big", 3.0e38, V.FLOAT32, None),
        ("test.bool.true", True, V.BOOL, None),
        ("test.bool.false", False, V.BOOL, None),
        ("test.string", "hello, GGUF", V.STRING, None),
        ("test.string.unicode", "héllo 世界 🦙 ∑\n\ttab", V.STRING, None),
        ("test.string.empty", "", V.STRING, None),
        ("test.uint64", 18446744073709551615, V.UINT64, None),
        ("test.uint64.small", 42, V.UINT64, None),
        ("test.int64", -9223372036854775808, V.INT64, None),
        ("test.int64.pos", 9007199254740993, V.INT64, None),  # 2^53+1: not representable as a double
        ("test.float64", 2.718281828459045, V.FLOAT64, None),
        ("test.float64.tiny", 5e-324, V.FLOAT64, None),
        ("test.array.int32", [1, -2, 3, -4, 2147483647], V.ARRAY, V.INT32),
        ("test.array.uint8", [0, 1, 127, 128, 255], V.ARRAY, V.UINT8),
        ("test.array.int16", [-32768, 0, 32767], V.ARRAY, V.INT16),
        ("test.array.uint64", [0, 1, 18446744073709551615], V.ARRAY, V.UINT64),
        ("test.array.int64", [-9223372036854775808, 9007199254740993], V.ARRAY, V.INT64),
        ("test.array.float32", [0.0, -1.5, 0.1, 1e10], V.ARRAY, V.FLOAT32),
        ("test.array.float64", [0.1, -2.5, 1e300], V.ARRAY, V.FLOAT64),
        ("test.array.bool", [True, False, True], V.ARRAY, V.BOOL),
        ("test.array.string", ["a", "", "ünïcödé", "<|im_start|>", "▁token"], V.ARRAY, V.STRING),
        ("test.array.empty", [], V.ARRAY, V.INT32),
    ]
    if nested:
        kv.append(("test.array.nested", [[1, 2, 3], [4], [5, 6]], V.ARRAY, V.ARRAY))
    kv.append(("general.quantization_version", 2, V.UINT32, None))
    return kv


def tensors(rng: np.random.Generator):
    """(name, numpy array to hand to GGUFWriter, raw_dtype or None, GGUF-order shape)."""
    t_f32 = rng.normal(0, 1, size=(4, 8)).astype(np.float32)
    t_f16 = rng.normal(0, 1, size=(3, 5)).astype(np.float16)
    t_vec = np.arange(7, dtype=np.float32) - 3.5
    t_3d = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.25)
    q8 = gguf.quants.quantize(rng.normal(0, 1, size=(2, 32)).astype(np.float32), T.Q8_0)
    # gguf-py cannot quantize Q4_K: build one block from seeded random bytes with sane scales.
    q4k = rng.integers(0, 256, size=(1, 144), dtype=np.uint16).astype(np.uint8)
    q4k[0, 0:2] = np.frombuffer(np.float16(0.0125).tobytes(), np.uint8)
    q4k[0, 2:4] = np.frombuffer(np.float16(0.0031).tobytes(), np.uint8)
    return [
        ("t.f32", t_f32, None, [8, 4]),
        ("t.f16", t_f16, None, [5, 3]),
        ("t.vec", t_vec, None, [7]),
        ("t.3d", t_3d, None, [4, 3, 2]),
        ("t.q8_0", q8, T.Q8_0, [32, 2]),
        ("t.q4_k", q4k, T.Q4_K, [256, 1]),
    ]


def write_file(path: Path, alignment: int | None, nested: bool, version: int = 3) -> None:
    rng = np.random.default_rng(SEED)
    old = gw.GGUF_VERSION
    gw.GGUF_VERSION = version
    try:
        w = Writer(str(path), arch="tiny")
        for key, val, vt, st in metadata(nested):
            w.add_key_value(key, val, vt, sub_type=st)
        if alignment is not None:
            w.add_custom_alignment(alignment)
        for name, arr, raw_dtype, _ in tensors(rng):
            w.add_tensor(name, arr, raw_dtype=raw_dtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
    finally:
        gw.GGUF_VERSION = old


def json_value(val, vt: V, st: V | None) -> dict:
    d: dict = {"type": vt.name, "type_id": int(vt)}
    if vt == V.ARRAY:
        d["array_type"] = st.name
        d["array_type_id"] = int(st)
        if st == V.ARRAY:
            d["value"] = [{"array_type": "INT32", "array_type_id": int(V.INT32), "value": list(x)} for x in val]
        elif st == V.FLOAT32:
            d["value"] = [f32(x) for x in val]
        elif st in (V.UINT64, V.INT64):
            d["value"] = list(val)
            d["value_str"] = [str(x) for x in val]
        else:
            d["value"] = list(val)
    elif vt == V.FLOAT32:
        d["value"] = f32(val)
    elif vt in (V.UINT64, V.INT64):
        d["value"] = val
        d["value_str"] = str(val)
    else:
        d["value"] = val
    return d


def describe(path: Path, alignment: int | None, nested: bool) -> dict:
    """Build the expected description from the source values, then cross-check with GGUFReader."""
    rng = np.random.default_rng(SEED)
    keys = [{"key": "general.architecture", **json_value("tiny", V.STRING, None)}]
    for key, val, vt, st in metadata(nested):
        keys.append({"key": key, **json_value(val, vt, st)})
    if alignment is not None:
        keys.append({"key": "general.alignment", **json_value(alignment, V.UINT32, None)})

    r = gguf.GGUFReader(str(path))
    version = int(r.fields["GGUF.version"].parts[0][0])
    align = alignment or 32
    tens = []
    offset = 0
    for (name, arr, raw_dtype, shape), rt in zip(tensors(rng), r.tensors):
        qtype = raw_dtype if raw_dtype is not None else (T.F16 if arr.dtype == np.float16 else T.F32)
        nbytes = arr.nbytes
        vals = np.asarray(gguf.quants.dequantize(np.ascontiguousarray(arr).view(np.uint8).reshape(-1), qtype),
                          dtype=np.float32).reshape(-1)
        # cross-check against the reader
        assert rt.name == name and rt.tensor_type == qtype, (rt.name, rt.tensor_type)
        assert [int(x) for x in rt.shape] == shape, (name, list(rt.shape), shape)
        assert rt.data_offset - r.data_offset == offset, (name, rt.data_offset - r.data_offset, offset)
        rvals = np.asarray(gguf.quants.dequantize(np.asarray(rt.data).view(np.uint8).reshape(-1).copy(), qtype)).reshape(-1)
        assert np.array_equal(rvals, vals), name
        tens.append({
            "name": name,
            "ggml_type": int(qtype),
            "ggml_type_name": qtype.name,
            "shape": shape,
            "n_elements": int(np.prod(shape)),
            "n_bytes": int(nbytes),
            "offset": offset,
            "values": [float(x) for x in vals],
        })
        offset += (nbytes + align - 1) // align * align
    assert r.data_offset % align == 0

    # cross-check metadata with the reader
    rkeys = [k for k in r.fields if not k.startswith("GGUF.")]
    assert rkeys == [k["key"] for k in keys], (rkeys, [k["key"] for k in keys])
    for k in keys:
        f = r.fields[k["key"]]
        assert f.types[0].name == k["type"], (k["key"], f.types)
        if k["type"] == "ARRAY" and k["array_type"] == "ARRAY":
            continue  # gguf-py's ReaderField.contents() does not decode nested arrays
        got = f.contents()
        exp = k["value"]
        if isinstance(exp, float):
            assert got == exp or (math.isnan(got) and math.isnan(exp)), (k["key"], got, exp)
        elif isinstance(exp, list) and exp and isinstance(exp[0], float):
            assert [float(x) for x in got] == exp, (k["key"], got, exp)
        else:
            assert got == exp, (k["key"], got, exp)

    return {
        "file": path.name,
        "version": version,
        "alignment": align,
        "data_offset": int(r.data_offset),
        "kv_count": len(keys),
        "tensor_count": len(tens),
        "keys": keys,
        "tensors": tens,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    specs = [
        ("tiny.gguf", None, False, 3),
        ("tiny-align64.gguf", 64, False, 3),
        ("tiny-v2.gguf", None, False, 2),
        ("tiny-nested.gguf", None, True, 3),
    ]
    files = []
    for name, align, nested, version in specs:
        p = OUT / name
        write_file(p, align, nested, version)
        files.append(describe(p, align, nested))
        print(f"{name}: {p.stat().st_size} bytes, data_offset={files[-1]['data_offset']}")

    a = (OUT / "tiny.gguf").read_bytes()
    b = (OUT / "tiny-v2.gguf").read_bytes()
    assert len(a) == len(b) and a[:4] == b[:4] and a[8:] == b[8:] and a[4:8] != b[4:8]
    assert files[2]["version"] == 2 and files[0]["version"] == 3

    doc = {
        "generator": "scripts/gguf/make_reader_fixtures.py",
        "gguf_py_version": _gguf_version(),
        "notes": ("shape is in GGUF order (ne0 = fastest-varying dimension first), exactly as stored. "
                  "offset is relative to the start of the data section; data_offset is absolute. "
                  "values are the dequantized tensor elements in storage order. "
                  "tiny-v2.gguf differs from tiny.gguf only in the version field. "
                  "tiny-nested.gguf holds a nested array (ggml's own reader rejects those)."),
        "files": files,
    }
    (OUT / "tiny.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def _gguf_version() -> str | None:
    try:
        from importlib.metadata import version
        return version("gguf")
    except Exception:
        return None


if __name__ == "__main__":
    main()
