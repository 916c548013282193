"""Open a page in headless Chromium over the DevTools protocol (stdlib only) and inspect it.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol commands on fd 3
and writes replies and events on fd 4, each message JSON ended by a NUL byte. No
WebDriver, no selenium or playwright download: Debian's ``chromium`` package is enough.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import attrs

__all__ = ["PageReport", "chromium_path", "inspect_page"]

#: The page's images as the browser decoded them.
_IMAGES_JS = """JSON.stringify([...document.images].map(i => ({
    id: i.id, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})))"""

# Protocol waits are bounded so a wedged browser fails the test instead of hanging CI;
# they are not timing assertions.
_PATIENCE_S = 60.0


def chromium_path() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@attrs.frozen
class PageReport:
    """What the browser saw: console errors, uncaught exceptions, the images, a screenshot."""

    errors: tuple[str, ...]
    images: tuple[dict[str, Any], ...]
    title: str
    screenshot: bytes


class _Pipe:
    def __init__(self, send_fd: int, recv_fd: int) -> None:
        self.send_fd = send_fd
        self.recv_fd = recv_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            chunk = os.read(self.recv_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.send_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + _PATIENCE_S
        while time.monotonic() < deadline:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)
        raise RuntimeError(f"{method}: no reply from chromium")

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + _PATIENCE_S
        while time.monotonic() < deadline:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise RuntimeError(f"chromium never sent {method}")


def _above_4(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


@contextmanager
def _browser(executable: str) -> Iterator[_Pipe]:
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    # The child's ends move above fd 4 first, or the shell's "3<&N 4>&M" could overwrite one
    # with the other when os.pipe() handed out fd 3 or 4 itself.
    to_child_r, from_child_w = (_above_4(fd) for fd in (to_child_r, from_child_w))
    profile = tempfile.mkdtemp(prefix="cf-chromium-")
    args = [
        executable,
        "--headless=new",
        "--disable-gpu",
        "--no-sandbox",  # CI runs as root in a container
        "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--remote-debugging-pipe",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    # The shell puts our pipe ends on fds 3 and 4, where Chromium expects them.
    # (bash, not dash: dash refuses fd numbers above 9.)
    command = ["bash", "-c", f'exec "$@" 3<&{to_child_r} 4>&{from_child_w}', "bash", *args]
    process = subprocess.Popen(
        command,
        pass_fds=(to_child_r, from_child_w),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("CF_CHROMIUM_LOG") else subprocess.DEVNULL,
    )
    os.close(to_child_r)
    os.close(from_child_w)
    pipe = _Pipe(to_child_w, from_child_r)
    try:
        yield pipe
    finally:
        with suppress(RuntimeError, OSError):
            pipe.call("Browser.close")
        try:
            process.wait(timeout=_PATIENCE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(to_child_w)
        os.close(from_child_r)
        shutil.rmtree(profile, ignore_errors=True)


def _describe(event: dict[str, Any]) -> str | None:
    method = event.get("method")
    params = event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        return f"uncaught exception: {details.get('text')} {details.get('exception', {})}"
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        values = [a.get("value", a.get("description")) for a in params.get("args", [])]
        return f"console.{params.get('type')}: {values}"
    if method == "Log.entryAdded":
        entry = params.get("entry", {})
        if entry.get("level") == "error":
            return f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip()
    return None


def inspect_page(
    path: Path, *, executable: str, width: int = 1280, height: int = 900
) -> PageReport:
    """Load ``path`` in headless Chromium; collect errors, the images and a full-page screenshot."""
    with _browser(executable) as pipe:
        target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
        session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            pipe.call(f"{domain}.enable", session)
        pipe.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        pipe.events.clear()
        pipe.call("Page.navigate", session, url=path.absolute().as_uri())
        pipe.wait_for("Page.loadEventFired")
        images = json.loads(
            pipe.call("Runtime.evaluate", session, expression=_IMAGES_JS, returnByValue=True)[
                "result"
            ]["value"]
        )
        title = pipe.call(
            "Runtime.evaluate", session, expression="document.title", returnByValue=True
        )["result"]["value"]
        shot = pipe.call(
            "Page.captureScreenshot", session, format="png", captureBeyondViewport=True
        )["data"]
        errors = tuple(e for e in map(_describe, pipe.events) if e)
    return PageReport(
        errors=errors, images=tuple(images), title=str(title), screenshot=base64.b64decode(shot)
    )
