"""The open API of the real app (`python -m chatapp.server.serve`, production build) with the
fake OpenAI server upstream: the official `openai` package, chatapp's own CLI, the original
project's page reading its stream in Chromium, and the settings section that makes keys."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest
from playwright.sync_api import expect

from testkit.app import AppServer, start_app
from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login
from testkit.paths import ARTIFACTS, ROOT
from tests.e2e.test_accessibility import axe_violations, describe


def own_violations(page) -> list[dict]:
    """axe's serious violations inside this section (the open API card and its dialog)."""
    found = []
    for violation in axe_violations(page):
        nodes = [n for n in violation["nodes"] if "open-api" in " ".join(n["target"]) + n["html"]]
        if nodes:
            found.append({**violation, "nodes": nodes})
    return found


UPSTREAM_KEY = "sk-upstream-running"
LANG_COOKIE = "chatapp_lang"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=UPSTREAM_KEY, default=Reply(chunk_chars=4, chunks_per_s=95)) as srv:
        yield srv


@pytest.fixture(scope="module")
def app(upstream, tmp_path_factory) -> Iterator[AppServer]:
    ARTIFACTS.mkdir(exist_ok=True)
    server = start_app(
        tmp_path_factory.mktemp("open-api"),
        ARTIFACTS / "app-open-api.log",
        name="open-api",
        OPENAI_API_KEY=UPSTREAM_KEY,
        OPENAI_BASE_URL=upstream.base_url,
        CHATAPP_MODELS="fake-gpt,fake-gpt-mini",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(app) -> str:
    return dev_login(app.url, "o_open_api")


@pytest.fixture(scope="module")
def key(app, token) -> str:
    reply = httpx.post(
        app.url + "/api/v1/keys",
        data={"name": "tests"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["key"]


def test_official_client_sync_and_streaming(app, key, upstream):
    oa = openai.OpenAI(base_url=app.url + "/v1", api_key=key, max_retries=0)
    assert [m.id for m in oa.models.list()] == ["fake-gpt", "fake-gpt-mini"]
    upstream.queue(Reply(text="同步的回答"))
    whole = oa.chat.completions.create(
        model="fake-gpt", messages=[{"role": "user", "content": "hi"}]
    )
    assert whole.choices[0].message.content == "同步的回答"
    upstream.queue(Reply(text="streamed through the app", chunk_chars=3, chunks_per_s=95))
    chunks = list(
        oa.chat.completions.create(
            model="fake-gpt-mini",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "streamed through the app"
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=app.url + "/v1", api_key="ck-wrong" * 4, max_retries=0).models.list()


def test_chatapps_own_cli(app, key, upstream):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "chatapp.llm",
                "--base-url",
                app.url + "/v1",
                "--api-key",
                key,
                *args,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    listed = cli("--models")
    assert listed.returncode == 0 and listed.stdout.split() == ["fake-gpt", "fake-gpt-mini"]
    upstream.queue(Reply(text="命令行里的回答", chunk_chars=2, chunks_per_s=95))
    streamed = cli("--model", "fake-gpt", "你好")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout.strip() == "命令行里的回答"
    assert "stop" in streamed.stderr  # the finish reason the CLI reports
    upstream.queue(Reply(text="whole"))
    whole = cli("--model", "fake-gpt", "--no-stream", "hi")
    assert whole.returncode == 0 and whole.stdout.strip() == "whole"
    refused = cli("--model", "no-such-model", "hi")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


# The original Next.js page's reader: fetch, then append every chunk the reader gives.
ORIGINAL_PAGE_READER = """async ([token, path]) => {
  const res = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json;charset=utf-8", "Authorization": token},
    body: JSON.stringify({model: "gpt-3.5-turbo", messages: [{role: "user", content: "写诗"}]}),
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let text = "", reads = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    reads += 1;
    text += decoder.decode(value, {stream: true});
  }
  return {status: res.status, text, reads};
}"""


def test_original_page_reads_the_legacy_stream(browser, app, token, upstream, request):
    with watched_page(browser, request.node.name) as page:
        page.goto(app.url + "/login")
        upstream.queue(
            Reply(
                text="床前明月光，疑是地上霜。举头望明月，低头思故乡。",
                chunk_chars=3,
                chunks_per_s=40,
            )
        )
        path = "/api/v1/chatgpt/chat/completions"
        got = page.evaluate(ORIGINAL_PAGE_READER, [token, path])
        assert got["status"] == 200
        assert got["text"] == "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
        assert got["reads"] > 1  # it arrived in pieces, as a stream
        bad = page.evaluate(ORIGINAL_PAGE_READER, ["not-a-token", path])
        assert bad["text"] == "0003"


@pytest.mark.parametrize(
    ("lang", "scheme", "viewport"),
    [
        ("zh", "light", "desktop"),
        ("en", "dark", "desktop"),
        ("zh", "dark", "phone"),
        ("en", "light", "phone"),
    ],
)
def test_settings_section_makes_and_revokes_keys(browser, app, lang, scheme, viewport, request):
    size = {"width": 390, "height": 844} if viewport == "phone" else {"width": 1280, "height": 900}
    token = dev_login(app.url, f"o_keys_{lang}_{scheme}_{viewport}")
    zh = lang == "zh"
    with watched_page(
        browser,
        request.node.name,
        viewport=size,
        locale="zh-CN" if zh else "en-US",
        color_scheme=scheme,
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    ) as page:
        log_in(page.context, app.url, token)
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        page.goto(app.url + "/settings")
        card = page.locator("#open-api-card")
        card.scroll_into_view_if_needed()
        expect(card).to_contain_text("开放 API" if zh else "Open API")
        expect(page.locator("#open-api-base-url")).to_have_text(app.url + "/v1")
        expect(page.locator("#open-api-empty")).to_be_visible()
        # A bad name is refused in the page's language, and what was typed stays.
        page.locator("#open-api-name").fill("n" * 64)
        page.locator("#open-api-name").evaluate("(el) => { el.removeAttribute('maxlength'); }")
        page.locator("#open-api-name").fill("n" * 65)
        page.locator("#open-api-create").click()
        expect(page.locator("#open-api-error")).to_contain_text(
            "最多 64 个字符" if zh else "at most 64 characters"
        )
        expect(page.locator("#open-api-name")).to_have_value("n" * 65)
        page.locator("#open-api-name").fill("VS Code")
        page.locator("#open-api-create").click()
        secret = page.locator("#open-api-created-key")
        expect(secret).to_contain_text("ck-")
        # The dialog's opening animation has ended (a screenshot mid-fade looks washed out).
        page.wait_for_function(
            "() => document.getElementById('open-api-created')?.getAnimations().length === 0"
        )
        shot(page, f"open-api-created-{lang}-{scheme}-{viewport}")
        violations = own_violations(page)
        assert not violations, describe(violations)
        created = secret.inner_text()
        # The key works, and is never shown again once closed.
        listed = httpx.get(app.url + "/v1/models", headers={"Authorization": f"Bearer {created}"})
        assert listed.status_code == 200
        page.locator("#open-api-done").click()
        expect(secret).to_have_count(0)
        rows = page.locator(".open-api-key")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("VS Code")
        expect(rows.first).to_contain_text(created[:7])
        assert created not in page.content()
        page.reload()
        expect(page.locator(".open-api-key").first).to_contain_text(
            "上次使用" if zh else "Last used"
        )
        page.locator("#open-api-card").scroll_into_view_if_needed()
        shot(page, f"open-api-list-{lang}-{scheme}-{viewport}")
        violations = own_violations(page)
        assert not violations, describe(violations)
        page.locator(".open-api-revoke").first.click()
        page.locator("#open-api-revoke-confirm").click()
        expect(page.locator("#open-api-empty")).to_be_visible()
        revoked = httpx.get(app.url + "/v1/models", headers={"Authorization": f"Bearer {created}"})
        assert revoked.status_code == 401
