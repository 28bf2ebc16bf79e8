#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for Shoal's tests: accepts POST /v1/traces with
Content-Type application/json (OTLP's JSON encoding), answers 200 with an empty
ExportTraceServiceResponse, and prints each span as one JSON line on stdout:
{"service": ..., "name": ..., "trace_id": ..., "span_id": ..., "parent_span_id": ..., "kind": ..., "status": ..., "attributes": {...}}.
Anything else is answered 404 or 415. Prints "listening PORT" once bound (port 0: any free one)."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def value(v):
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self.send_error(415)
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        for resource in body.get("resourceSpans", []):
            attrs = {a["key"]: value(a["value"]) for a in resource.get("resource", {}).get("attributes", [])}
            for scope in resource.get("scopeSpans", []):
                for s in scope.get("spans", []):
                    print(json.dumps({
                        "service": attrs.get("service.name"), "name": s["name"], "trace_id": s["traceId"],
                        "span_id": s["spanId"], "parent_span_id": s.get("parentSpanId", ""), "kind": s.get("kind"),
                        "status": s.get("status", {}).get("code"),
                        "start": int(s["startTimeUnixNano"]), "end": int(s["endTimeUnixNano"]),
                        "attributes": {a["key"]: value(a["value"]) for a in s.get("attributes", [])},
                    }), flush=True)
        payload = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
