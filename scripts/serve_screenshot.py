"""Take screenshots/serve.png: a real ``playground serve`` session in headless Chromium.

Usage: python scripts/serve_screenshot.py [PATH]
It serves the app on a free loopback port, opens a tab, commits a name (MissingGreenlet),
and saves the page as PNG, the way a student sees it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_serve import (  # noqa: E402
    CATCH_TERMINAL,
    CHROMIUM,
    CHROMIUM_ARGS,
    Served,
    browser_missing,
    commit,
    open_tab,
    wait_for_screen,
)


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots" / "serve.png"
    reason = browser_missing()
    if reason:
        print(f"serve_screenshot: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    served = Served()
    assert served.url is not None
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1100, "height": 640},
            )
            context.add_init_script(CATCH_TERMINAL)
            page = open_tab(context, served.url + "?fontsize=14")
            commit(page, "Ada")
            wait_for_screen(page, "row committed anyway")
            page.screenshot(path=str(target))
            context.close()
    finally:
        served.stop()
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
