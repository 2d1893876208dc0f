"""A minimal SEA/VibesPro handler service implementing the gateway's handler contract.

Install FastAPI and uvicorn (Debian/Ubuntu: `apt-get install python3-fastapi python3-uvicorn`; or
`pip install fastapi uvicorn`), run it from this folder with
`python3 -m uvicorn fastapi_handler:app --host 127.0.0.1 --port 7001`, and start the gateway with
SEA_HANDLER_URL=http://127.0.0.1:7001/handle (and a catalog entry with `handler: http`, see
capabilities.example.yaml).

This very file is tested: test/integration/fastapi-example.test.ts runs it under uvicorn as the
SEA context's handler and drives it through the gateway with the OpenAI SDK. The JSON Schemas in
contracts/schema/ (handler-request.json, handler-response.json, handler-result-event.json)
describe every message.

Contract: the worker POSTs {message_id, subject, event_type, event_version, occurred_at,
correlation_id, causation_id, tenant_id, payload}. Answer
  200 with {"events": [...]}, or a streamed body (text/event-stream or application/x-ndjson)
      carrying one result event each: {"event_type": "chat_delta", "payload": {"content": "..."}}
      then {"event_type": "chat_completed", "payload": {...}} (or "chat_failed");
  409 when message_id was already processed; 422 for a message that can never be processed;
  5xx (or time out) for a transient failure: the worker retries.

Editor actions arrive as event_type "editor_action" (contracts/schema/editor-action-payload.json):
payload {stream_id, model, handler, action, output, input: {path, language, content, selection?,
instruction?}, prompt?}. A chat_delta may then also carry
  "edits": [{"path", "range": {"start": {"line", "character"}, "end": {...}}, "replacement"}]
  "diagnostics": [{"range", "severity": "error|warning|information|hint", "message", "code"?}]
Lines are 0-based and characters count UTF-16 code units (LSP positions): utf16_len() below.
chat_completed may list every edit and diagnostic again; without them the worker completes the
result from the deltas.
"""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

app = FastAPI()
processed: set[str] = set()  # use your database, keyed by message_id, in a real service


def utf16_len(text: str) -> int:
    """A string's length in UTF-16 code units: what LSP positions count (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def completed(content: str, **extra: Any) -> str:
    return json.dumps({
        "event_type": "chat_completed",
        "payload": {
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 0, "completion_tokens": len(content.split()),
                      "total_tokens": len(content.split())},
            **extra,
        },
    }) + "\n"


def editor_action(msg: dict[str, Any]) -> StreamingResponse:
    """Reports a warning at each TODO, whatever the action (a real service dispatches on it)."""
    doc = msg["payload"]["input"]
    diagnostics = []
    for line, text in enumerate(doc["content"].splitlines()):
        at = text.find("TODO")
        if at >= 0:
            start = utf16_len(text[:at])
            diagnostics.append({
                "range": {"start": {"line": line, "character": start},
                          "end": {"line": line, "character": start + 4}},
                "severity": "warning",
                "message": "TODO left in the document",
                "code": "todo",
            })

    async def events():
        summary = f"{len(diagnostics)} TODO(s) in {doc['path']}"
        yield json.dumps({"event_type": "chat_delta", "payload": {"content": summary}}) + "\n"
        yield json.dumps({"event_type": "chat_delta",
                          "payload": {"diagnostics": diagnostics}}) + "\n"
        processed.add(msg["message_id"])
        yield completed(summary, edits=[], diagnostics=diagnostics)

    return StreamingResponse(events(), media_type="application/x-ndjson")


@app.post("/handle")
async def handle(request: Request) -> Any:
    msg = await request.json()
    if msg["message_id"] in processed:
        return JSONResponse({"detail": "already processed"}, status_code=409)
    if msg["event_type"] == "editor_action" and msg["event_version"] == 1:
        return editor_action(msg)
    if msg["event_type"] != "chat_completion" or msg["event_version"] != 1:
        return JSONResponse({"detail": "unsupported command"}, status_code=422)

    messages = msg["payload"]["messages"]
    question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if not isinstance(question, str):
        question = "".join(p.get("text", "") for p in question if p.get("type") == "text")
    words = f"{msg['tenant_id']} asked: {question}".split(" ")

    async def events():
        for i, word in enumerate(words):
            text = word if i == len(words) - 1 else word + " "
            yield json.dumps({"event_type": "chat_delta", "payload": {"content": text}}) + "\n"
        processed.add(msg["message_id"])
        yield json.dumps({
            "event_type": "chat_completed",
            "payload": {
                "message": {"role": "assistant", "content": " ".join(words)},
                "finish_reason": "stop",
                "usage": {"prompt_tokens": len(question.split()), "completion_tokens": len(words),
                          "total_tokens": len(question.split()) + len(words)},
            },
        }) + "\n"

    return StreamingResponse(events(), media_type="application/x-ndjson")
