#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz corpus (tests/fuzz/corpus/NAME/seed-*) from the project's own
golden files: the shipped experiments, the protocol transcripts, and a few hand-written streams,
weight files and number files. The fuzzer adds what it finds beside them; scripts/fuzz --merge
keeps only inputs that add coverage. Run again after a golden file changes."""
import hashlib
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
DECODERS = ["hello", "load", "measure", "bye", "save_weights", "outputs", "train", "fit", "probe"]


def put(name: str, data: bytes) -> None:
    folder = CORPUS / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{hashlib.sha1(data).hexdigest()[:16]}").write_bytes(data)


def experiments() -> None:
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        put("experiment", path.read_bytes())


def worker_replies() -> None:
    for path in sorted((ROOT / "tests" / "protocol").glob("valid_*.jsonl")):
        for line in path.read_text().splitlines():
            exchange = json.loads(line)
            op = exchange["request"]["op"]
            if op in DECODERS:
                put("worker_reply", bytes([DECODERS.index(op)]) + json.dumps(exchange["reply"]).encode())
            put("worker_request", json.dumps(exchange["request"]).encode())
    for line in (ROOT / "tests" / "protocol" / "invalid_replies.jsonl").read_text().splitlines():
        case = json.loads(line)
        if case["op"] in DECODERS:
            put("worker_reply", bytes([DECODERS.index(case["op"])]) + case["line"].encode())
    for line in (ROOT / "tests" / "protocol" / "invalid_requests.jsonl").read_text().splitlines():
        put("worker_request", json.loads(line)["line"].encode())
    for line in (ROOT / "tests" / "protocol" / "capabilities.jsonl").read_text().splitlines():
        put("worker_reply", bytes([9]) + line.encode())


def sse_streams() -> None:
    chunk = {"choices": [{"text": "hi", "logprobs": {"tokens": ["hi"]}}]}
    chat = {"choices": [{"delta": {"content": "a", "reasoning_content": "b"}}],
            "usage": {"completion_tokens": 3, "prompt_tokens": 4}}
    streams = [
        f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n",
        f": comment\r\nevent: x\r\nid: 1\r\ndata: {json.dumps(chat)}\r\n\r\ndata: [DONE]\r\n\r\n",
        'data: {"error": {"message": "overloaded"}}\n\n',
        "data: a\ndata: b\r\rdata:c\n\ndata: {\"choices\": []}\n\n",
        'data: {"usage": {"completion_tokens": 7}}\n\ndata: [DONE]',
    ]
    for i, s in enumerate(streams):
        put("sse", bytes([i * 5]) + s.encode())


def safetensors() -> None:
    def file(header: dict, data: bytes) -> bytes:
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        return struct.pack("<Q", len(text)) + text + data

    floats = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
    put("safetensors", file({"__metadata__": {"model": "mlp"},
                             "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}, floats))
    put("safetensors", file({"a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
                             "b": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]}}, floats[:4]))
    put("safetensors", file({"h": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}, b"\0\0"))


def number_files() -> None:
    for text in ["1 2 3\n", "# ms per call\n1.5, 2.5\n3e-3\t+4\n", "1,1\n", "0x1p3 -inf\n", "7\n8 # eight\n"]:
        put("number_file", text.encode())


if __name__ == "__main__":
    experiments()
    worker_replies()
    sse_streams()
    safetensors()
    number_files()
