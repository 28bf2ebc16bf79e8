#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (corpus/<target>/), small and valid, so libFuzzer
starts from inputs that reach deep into each parser. Run once; the outputs are committed."""
import json, os, struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, "corpus", target), exist_ok=True)
    with open(os.path.join(HERE, "corpus", target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frames(*parts):  # ShoalFuzz's framing: a length byte, then the frame
    return b"".join(bytes([len(p)]) + p for p in parts)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(number, payload):  # a length-delimited protobuf field
    return varint(number << 3 | 2) + varint(len(payload)) + payload


header = varint(1 << 3) + varint(7)  # RequestHeader.request_id = 7
task = field(1, b"calculator") + field(2, b"1 + 1")
write("mdp", "client-request", frames(b"client-1", b"MDPC02", b"\x01", b"calculator", b"shoal/1", header, task))
write("mdp", "client-v1", frames(b"client-1", b"", b"MDPC01", b"echo", b"hello"))
write("mdp", "worker-ready", frames(b"worker-1", b"", b"MDPW02", b"\x01", b"calculator", field(1, b"calc-1")))
write("mdp", "worker-final", frames(b"worker-1", b"", b"MDPW02", b"\x03", b"client-1", b"", b"shoal/1", header))
write("protobuf", "request-header", header)
write("protobuf", "sub-task", task + field(5, b"k") + varint(6 << 3) + varint(1))
write("protobuf", "packed-request", b"\xffSH1" + len(header).to_bytes(4, "little") + header + task)  # one-frame Shoal body
write("protobuf", "worker-info", field(1, b"calc-1") + field(2, b"calculator") + varint(3 << 3) + varint(8))
write("task-spec", "chain.yaml", "id: a\ninputs: {n: 4}\nsteps:\n  - {id: s, skill: calculator, input: \"{{inputs.n}} * 2\"}\n"
      "  - {id: t, skill: calculator, input: \"{{steps.s.output}} + 1\", needs: [s], verifier: {kind: math, answer: \"9\"}}\n"
      "output: \"{{steps.t.output}}\"\n")
write("task-spec", "fan-out.yaml", "id: b\ninputs: {xs: [1, 2, 3]}\nsteps:\n  - {id: m, skill: calculator, map: \"{{inputs.xs}}\", input: \"{{item}} * 3\"}\n")
write("task-spec", "json.json", json.dumps({"id": "c", "steps": [{"id": "a", "skill": "echo", "input": "x", "retries": 2}]}))

def gguf_string(s):
    return struct.pack("<Q", len(s)) + s.encode()

kv = b"".join([
    gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string("llama"),
    gguf_string("llama.context_length") + struct.pack("<I", 4) + struct.pack("<I", 128),
    gguf_string("llama.embedding_length") + struct.pack("<I", 4) + struct.pack("<I", 8),
    gguf_string("tokenizer.ggml.tokens") + struct.pack("<I", 9) + struct.pack("<I", 8) + struct.pack("<Q", 2) + gguf_string("a") + gguf_string("b"),
])
tensor = gguf_string("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 8, 2) + struct.pack("<I", 0) + struct.pack("<Q", 0)
body = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 1) + struct.pack("<Q", 4) + kv + tensor
body += b"\0" * (-len(body) % 32) + b"\0" * 64
write("gguf", "tiny.gguf", body)

head = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"format": "pt"}}).encode()
write("safetensors", "tiny.safetensors", struct.pack("<Q", len(head)) + head + b"\0" * 8)
