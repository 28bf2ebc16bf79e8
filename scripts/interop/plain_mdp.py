#!/usr/bin/env python3
"""A plain Majordomo (7/MDP, RFC https://rfc.zeromq.org/spec/7/) client and worker, written
from the RFC with pyzmq and nothing of Shoal's, to prove Shoal's coordinator interoperates.

  plain_mdp.py worker ENDPOINT SERVICE   echo every request body back, frame for frame
  plain_mdp.py client ENDPOINT           run the interop checks, print one JSON object

With SHOAL_KEY naming a Shoal key file (`shoal keys`), every socket connects with CURVE
(RFC 26) using that file's key pair and coordinator key; without it, in plaintext.
"""
import json
import os
import sys
import time

import zmq

C_CLIENT = b"MDPC01"
W_WORKER = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"
HEARTBEAT_S = 1.0


def secure(sock):
    """CURVE client settings from the key file $SHOAL_KEY (`field: value` lines), if set."""
    path = os.environ.get("SHOAL_KEY")
    if not path:
        return
    fields = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip()] = value.strip()
    sock.curve_publickey = fields["public_key"].encode()
    sock.curve_secretkey = fields["secret_key"].encode()
    sock.curve_serverkey = fields["coordinator_key"].encode()


def worker(endpoint, service):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    secure(sock)
    sock.connect(endpoint)
    sock.send_multipart([b"", W_WORKER, READY, service.encode()])
    last_beat = time.time()
    while True:
        if sock.poll(int(HEARTBEAT_S * 1000)):
            frames = sock.recv_multipart()
            # [empty, MDPW01, command, ...]
            assert frames[0] == b"" and frames[1] == W_WORKER, frames
            command = frames[2]
            if command == REQUEST:
                address, empty, body = frames[3], frames[4], frames[5:]
                assert empty == b""
                sock.send_multipart([b"", W_WORKER, REPLY, address, b""] + body)
            elif command == DISCONNECT:
                return
        if time.time() - last_beat >= HEARTBEAT_S:
            sock.send_multipart([b"", W_WORKER, HEARTBEAT])
            last_beat = time.time()


def request(ctx, endpoint, service, body):
    sock = ctx.socket(zmq.REQ)
    sock.linger = 0
    secure(sock)
    sock.connect(endpoint)
    sock.send_multipart([C_CLIENT, service] + body)
    if not sock.poll(10000):
        raise SystemExit(f"no reply from {service!r}")
    reply = sock.recv_multipart()
    sock.close()
    assert reply[0] == C_CLIENT, reply
    assert reply[1] == service, reply
    return reply[2:]


def client(endpoint):
    ctx = zmq.Context()
    opaque = [bytes(range(256)), b"", b"\xff\xfe not utf-8 \x00"]
    results = {
        "opaque_roundtrip": request(ctx, endpoint, b"py.echo", opaque) == opaque,
        "calculator": request(ctx, endpoint, b"calculator", ["3 + 4".encode()])[0].decode(),
        "calculator_error": request(ctx, endpoint, b"calculator", [b"3 +"])[0].decode(),
        "mmi_known": request(ctx, endpoint, b"mmi.service", [b"calculator"])[0].decode(),
        "mmi_unknown": request(ctx, endpoint, b"mmi.service", [b"nope"])[0].decode(),
        "mmi_unimplemented": request(ctx, endpoint, b"mmi.other", [b""])[0].decode(),
    }
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        client(sys.argv[2])
