"""Real-browser support for the console UI tests: headless Debian Chromium driven by Selenium.

The system parts are Debian's ``chromium`` and ``chromium-driver`` packages (/usr/bin/chromium,
/usr/bin/chromedriver) and the ``selenium`` package; browsers downloaded by test tools are not used.
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path(os.environ.get("NEWEID_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NEWEID_CHROMEDRIVER", "/usr/bin/chromedriver"))
WAIT_SECONDS = 10.0

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1024", "--lang=zh-TW",
)


def browser_available() -> bool:
    """Chromium, its driver and Selenium are all installed."""
    return (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK) and CHROMEDRIVER.is_file()
            and os.access(CHROMEDRIVER, os.X_OK) and importlib.util.find_spec("selenium") is not None)


def start_browser(profile_dir: Path) -> WebDriver:
    """A headless Chromium with a fresh profile, asking for Traditional Chinese like an office PC."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-TW,zh"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS * 3)
    return driver


def jpeg_file(directory: Path, width: int = 826, height: int = 1062) -> Path:
    """A valid JPEG photo of at least the minimum size, written to a file for the upload field."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (236, 242, 250)).save(buffer, "JPEG", quality=60)
    path = directory / "photo.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def wait_for_request_threads(timeout: float = WAIT_SECONDS) -> None:
    """Wait until the live server's request threads have ended (after the browser has quit).

    The browser's keep-alive connections keep a request thread each; such a thread closes its database
    connections when its socket closes, which must happen before the live server stops sharing the
    in-memory SQLite connection with it.
    """
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.name.endswith("(process_request_thread)"):
            thread.join(timeout)
