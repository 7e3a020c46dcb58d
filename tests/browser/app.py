"""The FiftyOne App served on loopback, and Debian's chromium driven by Playwright.

Chromium runs with a fresh profile, no background services, and a host resolver that maps
every name but localhost to nothing, so the test never contacts anything but loopback.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager

CHROMIUM = os.environ.get("PETTURTLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_chromium():
    """Fails (never skips) with what to install when the browser is missing."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise RuntimeError(
            f"no chromium at {CHROMIUM}: the App test needs Debian's chromium "
            "(apt-get install -y chromium) or PETTURTLE_CHROMIUM=/path/to/chromium"
        )


@contextmanager
def app_server(plugins_dir, log_path, timeout=120):
    """``python -m fiftyone.server.main`` on a free loopback port; yields its base URL."""
    port = free_port()
    env = dict(os.environ, FIFTYONE_PLUGINS_DIR=plugins_dir, FIFTYONE_DO_NOT_TRACK="true")
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "fiftyone.server.main", "--address", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the App server exited with {server.returncode}; see {log_path}")
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the App server did not answer on {url}; see {log_path}")
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextmanager
def chromium_page(width=1600, height=1000):
    """A page of headless chromium with a throw-away profile."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    profile = tempfile.mkdtemp(prefix="petturtle-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": width, "height": height},
            )
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
