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
    assert proc.returncode == 130 and err == "ending: stopped by the user (interrupted)\n"
    assert fake.wait_for(lambda: fake.disconnects == 1)


@pytest.mark.parametrize(
    ("reply", "out", "ending"),
    [
        (Reply(text="cut", finish_reason="length"), "cut\n", "cut at the length limit"),
        (Reply(text="", refusal="No."), "No.\n", "the model refused"),
        (Reply(text="", tool_call=True), "\n", "asked to call a tool"),
        (Reply(text="bad", finish_reason="content_filter"), "bad\n", "content filter"),
        (Reply(text=""), "\n", "empty answer"),
        (Reply(text="", reasoning="hmm", finish_reason="length"), "\n", "length limit"),
    ],
)
def test_every_ending_is_one_line_after_a_newline(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str], reply: Reply, out: str, ending: str
) -> None:
    fake.queue(reply)
    assert main(["--base-url", fake.base_url, "--api-key", KEY, "q"]) == 0
    printed = capsys.readouterr()
    assert printed.out == out
    lines = printed.err.split("\n")
    line = next(ln for ln in lines if ln.startswith("ending: "))
    assert ending in line
    # The reasoning (on stderr) ended mid-line: the ending starts a line of its own.
    assert ("hmm\nending: " in printed.err) == bool(reply.reasoning)


def test_reasoning_goes_to_stderr_and_the_answer_to_stdout(
    fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.queue(Reply(text="42", reasoning="6 times 7", reasoning_field="think", chunk_chars=2))
    assert main(["--base-url", fake.base_url, "--api-key", KEY, "q"]) == 0
    printed = capsys.readouterr()
    assert printed.out == "42\n" and printed.err.startswith("\n6 times 7\n\nfinish_reason=stop")
    assert "ending:" not in printed.err


def test_context_overflow_and_rate_limit_say_so(fake: FakeOpenAI) -> None:
    fake.queue(Reply(body="empty"))
    done = run_cli("--base-url", fake.base_url, "--api-key", KEY, "q")
    assert done.returncode == 1 and done.stderr.startswith("error: [context_length]")
    assert len(fake.requests) == 1  # never retried
    fake.queue(Reply(status=429, headers={"retry-after": "30"}))
    done = run_cli("--base-url", fake.base_url, "--api-key", KEY, "q")
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: [rate_limit]") and "retry after 30 s" in done.stderr


def test_an_error_mid_answer_starts_its_own_line(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="partial answer", chunk_chars=4, fault="error_in_stream", fault_after=2))
    done = run_cli("--base-url", fake.base_url, "--api-key", KEY, "q")
    assert done.returncode == 1 and done.stdout == "partial \n"
    assert done.stderr.startswith("error: [server]")
