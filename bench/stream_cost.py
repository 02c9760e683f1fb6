"""Benchmark 1 — stream cost: websocket bytes per answer character, measured in a real browser.

Method: Playwright listens to the page's websocket (`framereceived`) and counts every frame the
server sends from the moment the message is sent until the frame that ends the stream
(`cs.d(...)`), inclusive — the start-of-stream state update, every batch of new text and the
end-of-stream state update. `payload_bytes` is the UTF-8 length of each frame's payload.

Wire bytes: the server's websocket handshake is inspected (`Sec-WebSocket-Extensions`); when it does
not negotiate permessage-deflate (granian, Reflex's default production server) the wire carries
the payload plus a 2–4 byte frame header, reported as `wire_bytes_per_char`. What deflate would
save is reported separately as `deflate_bytes_per_char`: the same frames compressed the way
permessage-deflate with context takeover does (one raw-deflate stream, sync-flushed per message).
"""

from __future__ import annotations

import socket
import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser

from bench.common import Stack, open_chat, send, wait_answer_done
from bench.texts import answer
from testkit.fakes.openai_server import Reply


@dataclass(frozen=True)
class Case:
    """One answer to stream."""

    lang: str
    chars: int
    chunk_chars: int = 4
    chunks_per_s: float = 95
    history: int = 0  # earlier question+answer pairs in the conversation (500-char answers)
    # Characters of reasoning (`reasoning_content`) streamed before the answer; they count as
    # streamed characters (they cross the socket on their own channel, `cs.t`).
    reasoning: int = 0

    @property
    def name(self) -> str:
        name = f"{self.lang}-{self.chars // 1000}k-{self.chunk_chars}c@{self.chunks_per_s:g}/s"
        name += f"+{self.reasoning // 1000}k-reasoning" if self.reasoning else ""
        return name + (f"+{self.history * 2}msgs" if self.history else "")

    @property
    def streamed(self) -> int:
        """Characters streamed: the answer and its reasoning."""
        return self.chars + self.reasoning


FULL_CASES = [
    Case(lang, chars, chunk)
    for lang in ("en", "zh")
    for chars, chunk in ((1_000, 4), (16_000, 4), (1_000, 16), (64_000, 16))
] + [Case("zh", 1_000, history=10), Case("zh", 1_000, reasoning=1_000)]
SMOKE_CASES = [
    Case("en", 1_000),
    Case("zh", 1_000),
    Case("zh", 1_000, history=2),
    Case("zh", 1_000, reasoning=1_000),
]


def negotiated_extensions(base_url: str) -> str:
    """What the server answers to a websocket handshake offering permessage-deflate."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nOrigin: {base_url}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            data = s.recv(4096)
            if not data:
                break
            head += data
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("sec-websocket-extensions:"):
            return line.split(":", 1)[1].strip()
    return ""


def _ws_header(n: int) -> int:
    return 2 if n < 126 else 4 if n < 65536 else 10


def deflated_sizes(payloads: list[bytes]) -> list[int]:
    """Sizes after permessage-deflate with context takeover (RFC 7692 §7.2.1)."""
    comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    out = []
    for p in payloads:
        data = comp.compress(p) + comp.flush(zlib.Z_SYNC_FLUSH)
        out.append(len(data) - 4)  # the trailing 00 00 ff ff is not sent
    return out


def run_case(browser: Browser, st: Stack, case: Case) -> dict[str, Any]:
    """Streams one answer into a fresh tab and counts what the server sent for it."""
    text = answer(case.lang, case.chars)
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    frames: list[bytes] = []
    state = {"on": False, "streamed": False, "done": False}

    def on_frame(payload: str | bytes) -> None:
        if not state["on"] or state["done"]:
            return
        data = payload.encode() if isinstance(payload, str) else payload
        frames.append(data)
        if b"cs.a(" in data:
            state["streamed"] = True
        if b"cs.d(" in data and state["streamed"]:
            state["done"] = True

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    try:
        open_chat(page, st.app.url)
        for i in range(case.history):
            st.fake.queue(Reply(text=answer(case.lang, 500), chunk_chars=50, chunks_per_s=0))
            send(page, f"bench: history {i}")
            page.locator(f'[data-testid="assistant-bubble"] >> nth={i}').wait_for()
            wait_answer_done(page, timeout_ms=30_000)
        page.wait_for_timeout(300)  # the last history answer's final frames
        st.fake.queue(
            Reply(
                text=text,
                chunk_chars=case.chunk_chars,
                chunks_per_s=case.chunks_per_s,
                reasoning=answer(case.lang, case.reasoning) if case.reasoning else None,
            )
        )
        state["on"] = True
        started = time.monotonic()
        send(page, "bench: stream cost")
        expected_s = case.streamed / case.chunk_chars / case.chunks_per_s
        wait_answer_done(page, timeout_ms=(expected_s * 3 + 30) * 1000)
        deadline = time.monotonic() + 10
        while not state["done"] and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        elapsed = time.monotonic() - started
        shown = page.evaluate(
            """() => { const b = document.querySelectorAll('[data-testid="assistant-bubble"]');
                       return b[b.length-1].innerText.length; }"""
        )
    finally:
        context.close()
    batches = sum(len(f) for f in frames if b"cs.a(" in f or b"cs.r(" in f or b"cs.t(" in f)
    payload = sum(len(f) for f in frames)
    wire = sum(len(f) + _ws_header(len(f)) for f in frames)
    deflated = sum(n + _ws_header(n) for n in deflated_sizes(frames))
    return {
        "case": case.name,
        "lang": case.lang,
        "chars": case.chars,
        "reasoning_chars": case.reasoning,
        "chunk_chars": case.chunk_chars,
        "chunks_per_s": case.chunks_per_s,
        "frames": len(frames),
        "complete": state["done"],
        "shown_chars": shown,
        "seconds": round(elapsed, 2),
        "payload_bytes": payload,
        "payload_bytes_per_char": round(payload / case.streamed, 2),
        # text batches vs everything else (state updates at start and end, navigation script)
        "batch_bytes_per_char": round(batches / case.streamed, 2),
        "other_bytes": payload - batches,
        "wire_bytes_per_char": round(wire / case.streamed, 2),
        "deflate_bytes_per_char": round(deflated / case.streamed, 2),
    }


def run(browser: Browser, st: Stack, smoke: bool) -> dict[str, object]:
    """All stream-cost cases, plus the flatness ratio (64k vs 1k at the same pace)."""
    results = [run_case(browser, st, c) for c in (SMOKE_CASES if smoke else FULL_CASES)]
    by = {r["case"]: r for r in results}
    flat = {}
    for lang in ("en", "zh"):
        big, small = by.get(f"{lang}-64k-16c@95/s"), by.get(f"{lang}-1k-16c@95/s")
        if big and small:
            flat[lang] = round(
                float(big["payload_bytes_per_char"]) / float(small["payload_bytes_per_char"]), 2
            )
    return {
        "websocket_extensions": negotiated_extensions(st.app.url) or "none",
        "cases": results,
        "flatness_64k_over_1k": flat,
    }
