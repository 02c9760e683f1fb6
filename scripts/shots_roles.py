"""Screenshots of the roles and settings pages in both languages and themes (manual check).

Usage: python scripts/shots_roles.py http://localhost:3300  → test-artifacts/roles-*.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = Path(__file__).resolve().parents[1] / "test-artifacts"


def main(url: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 820}, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(15_000)
        for lang in ("zh", "en"):
            for theme in ("light", "dark"):
                page.goto(url + "/settings")
                expect(page.locator("#settings-theme")).to_be_visible()
                page.locator("#settings-language").get_by_role(
                    "radio", name="中文" if lang == "zh" else "English"
                ).click()
                page.wait_for_timeout(500)
                page.locator("#settings-theme button").nth(0 if theme == "light" else 1).click()
                page.wait_for_timeout(800)
                page.screenshot(path=str(OUT / f"settings-{lang}-{theme}.png"))
                page.goto(url + "/roles")
                expect(page.locator('[data-testid="role-item"]').first).to_be_visible()
                page.locator('[data-testid="role-item"]').first.click()
                expect(page.locator("#role-prompt")).to_be_visible()
                page.wait_for_timeout(300)
                page.screenshot(path=str(OUT / f"roles-{lang}-{theme}.png"))
        page.locator("#role-new").click()
        page.wait_for_timeout(500)
        page.locator("#role-form-save").click()
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "roles-editor-error.png"))
        page.keyboard.press("Escape")
        page.goto(url + "/")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "chat-home-after.png"))
        browser.close()
        print("page errors:", errors)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:3300")
