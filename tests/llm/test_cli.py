"""`python -m chatapp.llm` against the fake server: in a subprocess, and in-process for coverage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from chatapp.llm.__main__ import main
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.paths import ROOT

from .conftest import KEY


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chatapp.llm", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_subprocess_streams_answer_and_reports(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="你好,世界", chunk_chars=2))
    done = run_cli(
        "--base-url", fake.base_url, "--model", "m", "--system", "be brief", "--temperature",
        "0.3", "hello", env={"OPENAI_API_KEY": KEY},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "你好,世界\n"
    assert "finish_reason=stop" in done.stderr and "ttft=" in done.stderr
    body = fake.requests[0].json
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["temperature"] == 0.3


def test_subprocess_error_is_one_line_without_key(fake: FakeOpenAI) -> None:
    wrong = "sk-wrong-cli-key-987654"
    done = run_cli("--api-key", wrong, "hi", env={"OPENAI_BASE_URL": fake.base_url})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: [auth]") and wrong not in done.stderr


def test_in_process_modes(fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--base-url", fake.base_url, "--api-key", KEY]
    assert main([*base, "--models"]) == 0
    assert capsys.readouterr().out.split() == ["fake-gpt", "fake-gpt-mini"]
    fake.queue(Reply(text="whole"))
    assert main([*base, "--no-stream", "q"]) == 0
    out = capsys.readouterr()
    assert out.out == "whole\n" and "finish_reason=stop" in out.err
    fake.queue(Reply(text=""))
    assert main([*base, "q"]) == 0
    assert "ttft=n/a" in capsys.readouterr().err
    fake.queue(Reply(status=400))
    assert main([*base, "q"]) == 1
    assert capsys.readouterr().err.startswith("error: [bad_request]")
    assert main(base) == 2
    assert "give a prompt" in capsys.readouterr().err


def test_in_process_stream(fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]) -> None:
    fake.queue(Reply(text="streamed text", chunk_chars=3))
    assert main(["--base-url", fake.base_url, "--api-key", KEY, "q"]) == 0
    out = capsys.readouterr()
    assert out.out == "streamed text\n" and "usage=Usage(" in out.err


def test_ctrl_c_exits_130_without_traceback(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="slow " * 100, chunk_chars=1, chunks_per_s=50))
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatapp.llm", "--base-url", fake.base_url, "--api-key", KEY, "q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    proc.stdout.read(3)  # the answer has started
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and err == "error: interrupted\n"
    assert fake.wait_for(lambda: fake.disconnects == 1)
