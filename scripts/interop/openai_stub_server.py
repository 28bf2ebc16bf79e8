#!/usr/bin/env python3
"""A stand-in OpenAI-compatible server for testing Shoal's `openai` worker backend: it
checks the request the way llama-server/vLLM would parse it, and answers deterministically
("echo: <last user message>"). Prints `listening PORT`, serves until killed.
A message containing "FAIL" gets HTTP 500, to test error handling."""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        if self.path != "/v1/chat/completions":
            self.send_error(404, "no such route")
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        missing = [k for k in ("model", "messages", "temperature", "max_tokens") if k not in body]
        user = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
        if missing or not user:
            self.send_error(400, f"missing {missing or 'user message'}")
            return
        if "FAIL" in user[-1]:
            self.send_error(500, "model exploded")
            return
        reply = {
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": f"echo: {user[-1]} (t={body['temperature']})"}}],
            "usage": {"prompt_tokens": len(user[-1].split()), "completion_tokens": 3},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = HTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
