"""Benchmark 2 — added time to first token: when the browser shows the first character of an
answer, minus when the model (the fake server) sent its first content chunk.

Method (same machine, same wall clock): the fake stamps `time.time()` as it hands the first content
chunk to its HTTP server; a MutationObserver installed in the page before any script stamps
`performance.timeOrigin + performance.now()` (epoch ms, sub-ms resolution) at the first DOM
mutation after which the live answer (`.md-live`) holds text — i.e. after React committed it,
before the paint (add up to one frame, ~16 ms at 60 Hz, for pixels). One warm-up run is dropped.
A WebSocket wrapper stamps the first frame carrying text, splitting the figure into the server's
part (model's first chunk -> frame received by the page's script) and the browser's (frame -> DOM).
The page's script sees a frame only when its main thread is free: a frame that arrives while React
renders the message just sent waits for that render, and counts in the server's part.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from bench.common import Stack, open_chat, percentile, send, wait_answer_done
from testkit.fakes.openai_server import Reply

_STAMP = """
window.__firstTok = null;
window.__firstFrame = null;
(() => {
  const Base = window.WebSocket;
  window.WebSocket = class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (window.__firstFrame === null && typeof e.data === 'string' && e.data.includes('cs.a('))
          window.__firstFrame = performance.timeOrigin + performance.now();
      });
    }
  };
})();
new MutationObserver(() => {
  if (window.__firstTok !== null) return;
  const el = document.querySelector('.md-live');
  if (el && el.textContent.length > 0) window.__firstTok = performance.timeOrigin + performance.now();
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


def run(browser: Browser, st: Stack, runs: int) -> dict[str, object]:
    """Added TTFT when the model answers at once (its first token lands while the page is still
    rendering the message just sent: the worst case) and after 300 ms of "thinking" (a real
    model's first token takes that or more, and the page is idle by then)."""
    return {
        "immediate": _series(browser, st, runs, 0.0),
        "model_thinks_300ms": _series(browser, st, runs, 0.3),
    }


def _series(browser: Browser, st: Stack, runs: int, think_s: float) -> dict[str, object]:
    """`runs` answers in one conversation; added TTFT of each in ms, split into the server's
    part (model's first chunk -> first text frame in the page) and the browser's (frame -> DOM)."""
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    context.add_init_script(_STAMP)
    page = context.new_page()
    added: list[float] = []
    server: list[float] = []
    browser_part: list[float] = []
    try:
        open_chat(page, st.app.url)
        for i in range(runs + 1):
            page.evaluate("window.__firstTok = null; window.__firstFrame = null")
            before = len(st.fake.first_chunk_times)
            st.fake.queue(
                Reply(
                    text="First token " * 20,
                    chunk_chars=4,
                    chunks_per_s=95,
                    first_byte_delay_s=think_s,
                )
            )
            send(page, f"bench: first token {i}")
            page.wait_for_function("window.__firstTok !== null", timeout=30_000)
            shown_ms = float(page.evaluate("window.__firstTok"))
            frame_ms = page.evaluate("window.__firstFrame")
            wait_answer_done(page, timeout_ms=30_000)
            sent = st.fake.first_chunk_times[before:]
            if i == 0 or not sent:
                continue  # warm-up
            added.append(shown_ms - sent[0] * 1000)
            if frame_ms is not None:
                server.append(float(frame_ms) - sent[0] * 1000)
                browser_part.append(shown_ms - float(frame_ms))
    finally:
        context.close()
    return {
        "runs": len(added),
        "model_first_byte_delay_s": think_s,
        "added_ttft_ms_p50": round(percentile(added, 50), 1),
        "added_ttft_ms_p95": round(percentile(added, 95), 1),
        "added_ttft_ms_max": round(max(added), 1) if added else None,
        "server_part_ms_p50": round(percentile(server, 50), 1),
        "browser_part_ms_p50": round(percentile(browser_part, 50), 1),
        "samples_ms": [round(x, 1) for x in added],
    }
