"""Real servers for the Datasette tests: ``datasette serve`` and headless Chromium, both as
subprocesses on 127.0.0.1 (ephemeral ports), Chromium driven over the DevTools protocol.

Chromium is the system's (Debian ``chromium``, which ``.ci/run`` installs); no browser is
downloaded. Each browser gets a fresh profile and no background networking.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
                  "--disable-default-apps", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]
STARTUP_SECONDS = 60


def _address(process: subprocess.Popen, pattern: str) -> str:
    """Read ``process``'s standard error until a line matches ``pattern``; return its first group."""
    deadline = time.monotonic() + STARTUP_SECONDS
    seen = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found[1]
    process.kill()
    raise RuntimeError(f"no address in the output: {''.join(seen)[-2000:]}")


@contextmanager
def datasette(db: Path, metadata: Path) -> Iterator[str]:
    """``datasette serve DB -m METADATA`` on 127.0.0.1, port 0; yields its base URL."""
    command = [str(Path(sys.executable).with_name("datasette")), "serve", str(db), "-m", str(metadata),
               "-h", "127.0.0.1", "-p", "0"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as process:
        try:
            yield _address(process, r"Uvicorn running on (http://127\.0\.0\.1:\d+)")
        finally:
            process.terminate()
            process.wait(timeout=30)


class Page:
    """One browser tab over the DevTools protocol: navigate, evaluate, and the dialogs script opened."""

    def __init__(self, socket: Any, session: str | None) -> None:
        self.socket = socket
        self.session = session
        self.dialogs: list[str] = []
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, noting the events that arrive meanwhile."""
        number = next(self._ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params,
                                     **({"sessionId": self.session} if self.session else {})}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(message["params"]["message"])
            self.socket.send(json.dumps({"id": next(self._ids), "sessionId": self.session,
                                         "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))

    def open(self, url: str) -> None:
        """Navigate and wait until that document has loaded (a load event of the blank page before
        it may still arrive, so the document's own address and state are checked)."""
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + STARTUP_SECONDS
        while self.evaluate("location.href + ' ' + document.readyState") != f"{url} complete":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not load")
            time.sleep(0.05)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextmanager
def chromium() -> Iterator[Page]:
    """Headless system Chromium with a fresh profile; yields one tab."""
    import websocket

    with tempfile.TemporaryDirectory(prefix="dwn-chromium-") as profile:
        command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
        with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as process:
            try:
                address = _address(process, r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)")
                socket = websocket.create_connection(address, timeout=STARTUP_SECONDS)
                try:
                    browser = Page(socket, session=None)
                    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
                    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
                    page = Page(socket, session)
                    page.send("Page.enable")
                    page.send("Runtime.enable")
                    yield page
                finally:
                    socket.close()
            finally:
                process.terminate()
                process.wait(timeout=30)
