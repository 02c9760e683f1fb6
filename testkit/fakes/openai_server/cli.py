"""Runs the fake server in the foreground (benchmarks, manual runs)."""

from __future__ import annotations

import argparse

import uvicorn

from .reply import Reply
from .server import FakeOpenAI


def run_forever(
    host: str = "127.0.0.1",
    port: int = 8900,
    *,
    chunks_per_s: float = 95,
    chunk_chars: int = 4,
    api_key: str | None = None,
) -> None:
    """Serve in the foreground until interrupted (for benchmarks and manual runs)."""
    server = FakeOpenAI(
        api_key=api_key,
        host=host,
        port=port,
        default=Reply(chunks_per_s=chunks_per_s, chunk_chars=chunk_chars),
    )
    uvicorn.run(server.app, host=host, port=port, log_level="warning", lifespan="off")


def main(argv: list[str] | None = None) -> None:
    """The command line: `python -m testkit.fakes.openai_server --port 8900`."""
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--chunks-per-s", type=float, default=95)
    parser.add_argument("--chunk-chars", type=int, default=4)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)
    run_forever(
        args.host,
        args.port,
        chunks_per_s=args.chunks_per_s,
        chunk_chars=args.chunk_chars,
        api_key=args.api_key,
    )
