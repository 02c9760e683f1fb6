"""Command line: stream one answer from any OpenAI-compatible API, to try a key or a model.

    python -m chatapp.llm --base-url URL --api-key KEY --model M "prompt"
    python -m chatapp.llm --models

The answer goes to stdout as it arrives, a refusal too; the model's reasoning goes to stderr as
it arrives. Then, each on its own line after a newline, on stderr: how the answer ended when it
is not a normal end (`ending: cut at the length limit ...`, see `endings.py`) and the finish
reason, usage and time to first token. Any failure is one line on stderr and exit status 1
(never a traceback); a rate limit says how long the provider asked to wait.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TextIO

from .client import ChatClient
from .endings import CLI_TEXT, ending_of
from .errors import LLMError
from .types import ReasoningDelta, RefusalDelta, StreamDone, TextDelta


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chatapp.llm", description=__doc__)
    parser.add_argument("prompt", nargs="?", help="the user message")
    parser.add_argument("--base-url", default=None, help="API root (env OPENAI_BASE_URL)")
    parser.add_argument("--api-key", default=None, help="API key (env OPENAI_API_KEY)")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--system", default=None, help="a system prompt")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--no-stream", action="store_true", help="one non-streamed request")
    parser.add_argument("--models", action="store_true", help="list the models and exit")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per phase")
    return parser


async def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Do what the parsed arguments ask; returns the exit status."""
    base_url = args.base_url or env.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    api_key = args.api_key or env.get("OPENAI_API_KEY")
    client = ChatClient(
        base_url,
        api_key,
        timeout=args.timeout,
        first_byte_timeout=args.timeout,
        idle_timeout=args.timeout,
    )
    async with client:
        if args.models:
            for model in await client.list_models():
                print(model)
            return 0
        messages = [{"role": "system", "content": args.system}] if args.system else []
        messages.append({"role": "user", "content": args.prompt})
        started = time.monotonic()
        if args.no_stream:
            result = await client.chat(messages, args.model, temperature=args.temperature)
            if result.reasoning:
                print(result.reasoning, file=sys.stderr)
            print(result.refusal or result.text)
            ending = ending_of(
                result.finish_reason,
                text=result.text,
                refusal=bool(result.refusal),
                tool_calls=result.tool_calls,
            )
            _report(ending, result.finish_reason, result.usage, time.monotonic() - started)
            return 0
        first: float | None = None
        text: list[str] = []
        refused = False
        stream = client.stream_chat(messages, args.model, temperature=args.temperature)
        async for event in stream:
            if first is None and not isinstance(event, StreamDone):
                first = time.monotonic() - started
            if isinstance(event, ReasoningDelta):
                _mid_line.add(sys.stderr)
                sys.stderr.write(event.text)
                sys.stderr.flush()
            elif isinstance(event, TextDelta | RefusalDelta):
                refused = refused or isinstance(event, RefusalDelta)
                text.append(event.text)
                _mid_line.add(sys.stdout)
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, StreamDone):
                _mid_line.add(sys.stdout)  # the answer ends with a newline, even an empty one
                _end_line()
                ending = ending_of(
                    event.finish_reason,
                    text="".join(text),
                    refusal=refused,
                    tool_calls=event.tool_calls,
                )
                _report(ending, event.finish_reason, event.usage, first)
        return 0


# The streams written to since their last newline: what follows them starts a line of its own.
_mid_line: set[TextIO] = set()


def _end_line() -> None:
    """Ends the lines the answer (stdout) and the reasoning (stderr) left open."""
    for stream in (sys.stderr, sys.stdout):
        if stream in _mid_line:
            print(file=stream)
    _mid_line.clear()


def _report(ending: str, finish_reason: str | None, usage: object, ttft: float | None) -> None:
    if ending in CLI_TEXT:
        print(f"ending: {CLI_TEXT[ending]}", file=sys.stderr)
    ttft_text = f"{ttft:.3f}s" if ttft is not None else "n/a"
    print(f"finish_reason={finish_reason} usage={usage} ttft={ttft_text}", file=sys.stderr)


def _failure(exc: LLMError) -> str:
    """The one line a failure prints: the error, and the wait a rate limit asked for."""
    line = f"error: {exc}"
    if exc.retry_after is not None:
        line += f" (retry after {exc.retry_after:.0f} s)"
    return line


async def _guarded(args: argparse.Namespace) -> int:
    try:
        return await run(args, os.environ)
    except LLMError as exc:
        # str(LLMError) is scrubbed of keys; one line after a newline, no traceback.
        _end_line()
        print(_failure(exc), file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parser().parse_args(argv)
    if not args.models and not args.prompt:
        print("error: give a prompt (or --models)", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_guarded(args))
    except KeyboardInterrupt:  # pragma: no cover - tested in a subprocess (test_cli.py)
        _end_line()
        print("ending: stopped by the user (interrupted)", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover - run by the subprocess tests
    sys.exit(main())
