"""Drives `shoal gateway` with the official `openai` package, as an application would.

Usage: openai_client.py BASE_URL API_KEY MODEL
Prints one JSON object: what each call returned (or the error it raised), for GatewayTests.
"""
import json
import sys
import urllib.request
import urllib.error

import openai

base, key, model = sys.argv[1], sys.argv[2], sys.argv[3]
tools_model = sys.argv[4] if len(sys.argv) > 4 else None
embedding_model = sys.argv[5] if len(sys.argv) > 5 else None
client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=60)
out = {}


def error_of(e):
    body = getattr(e, "body", None)
    return {"status": getattr(e, "status_code", None), "type": type(e).__name__,
            "param": body.get("param") if isinstance(body, dict) else None,
            "code": body.get("code") if isinstance(body, dict) else None,
            "message": str(e)}


out["models"] = [m.id for m in client.models.list().data]

one = [{"role": "user", "content": "Hello world"}]
r = client.chat.completions.create(model=model, messages=one, max_tokens=5, temperature=0, seed=7)
out["chat"] = {"content": r.choices[0].message.content, "role": r.choices[0].message.role,
               "finish_reason": r.choices[0].finish_reason, "object": r.object,
               "usage": r.usage.model_dump() if r.usage else None}

pieces, finish, usage, roles = [], None, None, []
for chunk in client.chat.completions.create(model=model, messages=one, max_tokens=5, temperature=0, seed=7,
                                            stream=True, stream_options={"include_usage": True}):
    assert chunk.object == "chat.completion.chunk", chunk.object
    for c in chunk.choices:
        if c.delta.role:
            roles.append(c.delta.role)
        if c.delta.content:
            pieces.append(c.delta.content)
        if c.finish_reason:
            finish = c.finish_reason
    if chunk.usage:
        usage = chunk.usage.model_dump()
out["stream"] = {"content": "".join(pieces), "pieces": len(pieces), "finish_reason": finish, "usage": usage, "roles": roles}

r = client.chat.completions.create(model=model, messages=one, max_tokens=5, temperature=0, seed=7, logprobs=True)
lp = r.choices[0].logprobs
out["logprobs"] = {"content": r.choices[0].message.content, "completion_tokens": r.usage.completion_tokens,
                   "tokens": [t.token for t in lp.content] if lp else None,
                   "logprobs": [t.logprob for t in lp.content] if lp else None,
                   "bytes_match": all(bytes(t.bytes).decode("utf-8", "replace") == t.token for t in lp.content) if lp else None,
                   "plain": client.chat.completions.create(model=model, messages=one, max_tokens=5, temperature=0).choices[0].logprobs}

conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Again"}]
r = client.chat.completions.create(model=model, messages=conversation, max_tokens=3, temperature=0)
out["conversation"] = {"content": r.choices[0].message.content, "prompt_tokens": r.usage.prompt_tokens}

stopped = client.chat.completions.create(model=model, messages=one, max_tokens=5, temperature=0, stop=[out["chat"]["content"][:2] or "x"])
stop = [out["chat"]["content"][:2] or "x"]
streamed_stop = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
    model=model, messages=one, max_tokens=5, temperature=0, stop=stop, stream=True) if c.choices)
out["stop"] = {"content": stopped.choices[0].message.content, "streamed": streamed_stop}

if tools_model:
    weather = {"type": "function", "function": {
        "name": "get_current_weather", "description": "Get the current weather in a given location.",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city, e.g. 'Paris, France' or 'Chicago'."},
            "unit": {"type": "string", "description": "Temperature unit. Default is 'fahrenheit'.", "enum": ["celsius", "fahrenheit"]}},
            "required": ["location"]}}}
    r = client.chat.completions.create(model=tools_model, tools=[weather],
                                       messages=[{"role": "user", "content": "What is the weather like in Paris, France?"}])
    m = r.choices[0].message
    out["tool_call"] = {"finish_reason": r.choices[0].finish_reason, "content": m.content,
                        "calls": [{"id": c.id, "type": c.type, "name": c.function.name, "arguments": json.loads(c.function.arguments)}
                                  for c in (m.tool_calls or [])]}
    # Streamed: the call comes whole in one chunk's delta.tool_calls, then finish_reason tool_calls.
    streamed_calls, streamed_content, streamed_finish = [], "", None
    for chunk in client.chat.completions.create(model=tools_model, tools=[weather], stream=True,
                                                messages=[{"role": "user", "content": "What is the weather like in Paris, France?"}]):
        for c in chunk.choices:
            for t in (c.delta.tool_calls or []):
                streamed_calls.append({"index": t.index, "id": t.id, "name": t.function.name, "arguments": json.loads(t.function.arguments)})
            streamed_content += c.delta.content or ""
            streamed_finish = c.finish_reason or streamed_finish
    out["tool_call_stream"] = {"calls": streamed_calls, "content": streamed_content, "finish_reason": streamed_finish}

if embedding_model:
    texts = ["The speed of light in vacuum", "How fast does light travel?", "A recipe for sourdough bread"]
    r = client.embeddings.create(model=embedding_model, input=texts)
    vectors = [d.embedding for d in sorted(r.data, key=lambda d: d.index)]
    cos = lambda a, b: sum(x * y for x, y in zip(a, b))
    out["embeddings"] = {"count": len(vectors), "dimensions": [len(v) for v in vectors],
                         "norms": [cos(v, v) ** 0.5 for v in vectors],
                         "related": cos(vectors[0], vectors[1]), "unrelated": cos(vectors[0], vectors[2]),
                         "prompt_tokens": r.usage.prompt_tokens, "single": len(client.embeddings.create(model=embedding_model, input="light").data),
                         # As numbers (the package asks for base64 unless told): the same vector.
                         "float_matches": max(abs(x - y) for x, y in zip(
                             client.embeddings.create(model=embedding_model, input=texts[0], encoding_format="float").data[0].embedding, vectors[0]))}

errors = {}
for name, kwargs in {
    "unknown_model": dict(model="nosuch", messages=one),
    "bad_temperature": dict(model=model, messages=one, temperature=5),
    "bad_tools": dict(model=model, messages=one, tools=[{"type": "function", "function": {"parameters": {}}}]),
    "no_messages": dict(model=model, messages=[]),
    "top_logprobs": dict(model=model, messages=one, logprobs=True, top_logprobs=3),
}.items():
    try:
        client.chat.completions.create(**kwargs)
        errors[name] = None
    except openai.APIStatusError as e:
        errors[name] = error_of(e)
try:
    openai.OpenAI(base_url=base + "/v1", api_key="not-a-key-of-this-gateway", max_retries=0).models.list()
    errors["wrong_key"] = None
except openai.APIStatusError as e:
    errors["wrong_key"] = error_of(e)
if embedding_model:
    try:
        client.embeddings.create(model=embedding_model, input=[])
        errors["empty_embedding_input"] = None
    except openai.APIStatusError as e:
        errors["empty_embedding_input"] = error_of(e)
out["errors"] = errors

big = json.dumps({"model": model, "messages": [{"role": "user", "content": "x" * (2 << 20)}]}).encode()
request = urllib.request.Request(base + "/v1/chat/completions", data=big, headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
try:
    urllib.request.urlopen(request, timeout=60)
    out["too_large"] = None
except urllib.error.HTTPError as e:
    out["too_large"] = {"status": e.code, "body": json.loads(e.read() or b"{}")}

print(json.dumps(out))
