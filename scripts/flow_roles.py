"""A manual walk-through of the roles flow in a real browser (until tests/e2e can run here).

Usage: python scripts/flow_roles.py http://localhost:3300  → test-artifacts/flow-*.png
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from scripts.shots_roles import ARGS, OUT

MASK = [
    {
        "avatar": "1f916",
        "name": "面具导入测试",
        "context": [
            {"role": "system", "content": "你是导入的面具。"},
            {"role": "user", "content": "示例问题"},
            {"role": "assistant", "content": "示例回答"},
        ],
        "modelConfig": {"model": "gpt-4", "temperature": 0.4},
        "lang": "cn",
    }
]


def main(url: str) -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 820}, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_default_timeout(15_000)
        page.goto(url + "/settings")
        page.locator("#settings-language").get_by_role("radio", name="中文").click()
        page.locator("#settings-theme button").nth(0).click()
        page.goto(url + "/roles")
        # Create a role: first an invalid one (clear error), then a valid one.
        page.locator("#role-new").click()
        page.locator("#role-form-save").click()
        expect(page.locator("#role-form-error")).to_contain_text("名称")
        page.screenshot(path=str(OUT / "flow-editor-error.png"))
        page.locator("#role-form-name").fill("测试角色")
        page.locator("#role-form-avatar").fill("🧪")
        page.locator("#role-form-system_prompt").fill("你是测试角色，只用一句话回答。")
        page.locator("#role-form-add-opening").click()
        page.locator(".opening-input textarea, textarea.opening-input").first.fill("开场问题")
        page.locator("#role-form-add-opening").click()
        page.locator(".opening-input textarea, textarea.opening-input").nth(1).fill("开场回答")
        page.locator("#role-form-temperature").fill("5")
        page.locator("#role-form-save").click()
        expect(page.locator("#role-form-error")).to_contain_text("温度")
        page.locator("#role-form-temperature").fill("0.3")
        page.locator("#role-form-save").click()
        expect(page.locator("#role-name")).to_have_text("测试角色")
        expect(page.locator(".opening-msg")).to_have_count(2)
        page.screenshot(path=str(OUT / "flow-role-created.png"))
        # Import: a bad paste imports nothing; a NextChat mask imports one role.
        page.locator("#roles-menu").click()
        page.locator("#roles-import").click()
        page.locator("#role-import-text").fill('[{"name": "x", "context": [{"role": "tool"}]}]')
        page.locator("#role-import-submit").click()
        expect(page.locator("#role-import-error")).to_contain_text("没有导入任何内容")
        page.screenshot(path=str(OUT / "flow-import-error.png"))
        page.locator("#role-import-text").fill(json.dumps(MASK, ensure_ascii=False))
        page.locator("#role-import-submit").click()
        expect(page.locator("#role-name")).to_have_text("面具导入测试")
        expect(page.locator("#role-prompt")).to_have_text("你是导入的面具。")
        # Start a chat with the created role.
        page.locator('[data-testid="role-item"]', has_text="测试角色").click()
        page.locator("#role-start").click()
        expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
        expect(page.locator("#chat-title")).to_have_text("测试角色")
        expect(page.locator("#role-picker")).to_contain_text("测试角色")
        box = page.locator("#composer-input")
        box.fill("你好")
        box.press("Enter")
        expect(page.locator('[data-testid="assistant-bubble"]').last).not_to_have_attribute(
            "data-status", "streaming", timeout=30_000
        )
        page.screenshot(path=str(OUT / "flow-chat-with-role.png"))
        # Switch the role from the header.
        page.locator("#role-picker").click()
        page.get_by_role("option", name=re.compile("Java 面试官")).click()
        expect(page.locator("#role-picker")).to_contain_text("Java 面试官")
        page.reload()
        expect(page.locator("#role-picker")).to_contain_text("Java 面试官")
        page.screenshot(path=str(OUT / "flow-role-switched.png"))
        # Dark chat page in English.
        page.goto(url + "/settings")
        page.locator("#settings-language").get_by_role("radio", name="English").click()
        page.locator("#settings-theme button").nth(1).click()
        page.locator("#settings-send-key").get_by_role("radio").nth(1).click()
        page.wait_for_timeout(500)
        page.go_back()
        page.goto(page.url)
        expect(page.locator("#composer-input")).to_have_attribute("data-sendkey", "ctrl")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "flow-chat-dark-en.png"))
        browser.close()
        print("page errors:", errors)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:3300")
