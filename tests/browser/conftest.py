"""End-to-end fixtures: the report served by `billready serve` on 127.0.0.1 (a free port) over
the demo warehouse, and headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

One server and one browser per test session. The tests skip, saying how to enable them, when
Chromium or Playwright is missing: `make test` installs both (scripts/ensure_chromium.sh).
Screenshots go to test-artifacts/browser/ (or $BILLREADY_TEST_ARTIFACTS).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from billready import settings

CHROMIUM = Path(os.environ.get("BILLREADY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
HOW_TO_ENABLE = (
    "run `make test` (scripts/ensure_chromium.sh installs Debian's chromium; the dev extra "
    "installs playwright), or `sudo apt-get install -y chromium` and `.venv/bin/pip install -e '.[dev]'`"
)
SERVER_START_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    directory = Path(os.environ.get("BILLREADY_TEST_ARTIFACTS", settings.project_dir() / "test-artifacts")) / "browser"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: {HOW_TO_ENABLE}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"browser tests need the playwright package: {HOW_TO_ENABLE}")
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright_api: object) -> Iterator[object]:
    chromium = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def served_report(demo_warehouse: Path, playwright_api: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`billready serve` on a free port over the demo warehouse; its base URL. Stopped (the whole
    process group: the CLI and the streamlit server it starts) when the session ends."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(Path(sys.executable).with_name("billready")), "--warehouse", str(demo_warehouse), "serve", "--port", str(port)]
    env = {**os.environ, "BILLREADY_MAX_AGE_HOURS": "100000"}
    env.pop(settings.HOME_ENV, None)
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)

    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"billready serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"billready serve did not answer within {SERVER_START_TIMEOUT}s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        stop()


@pytest.fixture()
def page(browser: object, served_report: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(60_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
