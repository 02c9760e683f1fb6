"""Renders the app's icons from assets/icon.svg and assets/icon-maskable.svg with Debian's Chromium.

    .venv/bin/python scripts/make_icons.py

Writes the PNGs the web app manifest and iOS ask for, and favicon.ico (PNG images inside an ICO
container, which every current browser reads). Run it after changing the SVGs; the outputs are
committed, so building the app needs no image tool.
"""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

ASSETS = Path(__file__).resolve().parents[1] / "assets"
OUTPUTS = {
    "icon-192.png": ("icon.svg", 192),
    "icon-512.png": ("icon.svg", 512),
    "icon-maskable-512.png": ("icon-maskable.svg", 512),
    "apple-touch-icon.png": ("icon-maskable.svg", 180),
    "_favicon-32.png": ("icon.svg", 32),
    "_favicon-48.png": ("icon.svg", 48),
}


def _ico(pngs: list[tuple[int, bytes]]) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, data in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def main() -> None:
    rendered: dict[str, bytes] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless"])
        for name, (svg, size) in OUTPUTS.items():
            page = browser.new_page(viewport={"width": size, "height": size})
            markup = (ASSETS / svg).read_text()
            page.set_content(
                "<html><body style='margin:0;background:transparent'>"
                f"<div style='width:{size}px;height:{size}px'>{markup}</div></body></html>"
            )
            page.add_style_tag(content="svg{width:100%;height:100%;display:block}")
            rendered[name] = page.screenshot(omit_background=True)
            page.close()
        browser.close()
    for name, data in rendered.items():
        if not name.startswith("_"):
            (ASSETS / name).write_bytes(data)
    (ASSETS / "favicon.ico").write_bytes(
        _ico([(32, rendered["_favicon-32.png"]), (48, rendered["_favicon-48.png"])])
    )


if __name__ == "__main__":
    main()
