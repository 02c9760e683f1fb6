"""Benchmark 2 — added time to first token: when the browser shows the first character of an
answer, minus when the model (the fake server) sent its first content chunk.

Method (same machine, same wall clock): the fake stamps `time.time()` as it hands the first content
chunk to its HTTP server; a MutationObserver installed in the page before any script stamps
`performance.timeOrigin + performance.now()` (epoch ms, sub-ms resolution) at the first DOM
mutation after which the live answer (`.md-live`) holds text — i.e. after React committed it,
before the paint (add up to one frame, ~16 ms at 60 Hz, for pixels). One warm-up run is dropped.
"""

from __future__ import annotations

from playwright.sync_api import Browser

from bench.common import Stack, open_chat, percentile, send, wait_answer_done
from tests.fakes.openai_server import Reply

_STAMP = """
window.__firstTok = null;
new MutationObserver(() => {
  if (window.__firstTok !== null) return;
  const el = document.querySelector('.md-live');
  if (el && el.textContent.length > 0) window.__firstTok = performance.timeOrigin + performance.now();
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


def run(browser: Browser, st: Stack, runs: int) -> dict[str, object]:
    """`runs` answers in one conversation; added TTFT of each in ms."""
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    context.add_init_script(_STAMP)
    page = context.new_page()
    added: list[float] = []
    try:
        open_chat(page, st.app.url)
        for i in range(runs + 1):
            page.evaluate("window.__firstTok = null")
            before = len(st.fake.first_chunk_times)
            st.fake.queue(Reply(text="First token " * 20, chunk_chars=4, chunks_per_s=95))
            send(page, f"bench: first token {i}")
            page.wait_for_function("window.__firstTok !== null", timeout=30_000)
            shown_ms = float(page.evaluate("window.__firstTok"))
            wait_answer_done(page, timeout_ms=30_000)
            sent = st.fake.first_chunk_times[before:]
            if i == 0 or not sent:
                continue  # warm-up
            added.append(shown_ms - sent[0] * 1000)
    finally:
        context.close()
    return {
        "runs": len(added),
        "added_ttft_ms_p50": round(percentile(added, 50), 1),
        "added_ttft_ms_p95": round(percentile(added, 95), 1),
        "added_ttft_ms_max": round(max(added), 1) if added else None,
        "samples_ms": [round(x, 1) for x in added],
    }
