"""The served dashboard in a real headless Chromium: auth, binding, rendering, no code.

One Voila server for the module, started with the same command line and environment
``cxkit.dashboard.serve`` uses, on a free port with a known token; always stopped.
Chromium is Debian's ``/usr/bin/chromium``; Playwright must never download a browser.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cxkit import dashboard
from cxkit.dashboard import default_notebook, voila_command, voila_env

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TOKEN = "cxkit-test-" + uuid.uuid4().hex
PROJECT_ROOT = Path(dashboard.__file__).resolve().parents[1]
SCREENSHOT = PROJECT_ROOT / "build" / "dashboard.png"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(module_run_dir, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium "
                    f"(apt-get install chromium) to run the browser tests")
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    with open(log, "w") as log_file:
        proc = subprocess.Popen(voila_command(default_notebook(), port=port),
                                env=voila_env(module_run_dir, TOKEN), stdout=log_file,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"voila did not listen on {port} in 60 s:\n{log.read_text()}")
                time.sleep(0.3)
        yield {"port": port, "url": f"http://127.0.0.1:{port}", "proc": proc, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_without_token_redirects_to_login(server):
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(server["url"] + "/", timeout=30)
    assert info.value.code in (302, 403)
    if info.value.code == 302:
        assert info.value.headers["Location"].startswith("/login")
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(server["url"] + "/?token=wrong", timeout=30)
    assert info.value.code in (302, 403)


def test_listens_on_loopback_only(server):
    tcp = Path("/proc/net/tcp")
    if not tcp.exists():
        pytest.skip("needs Linux /proc/net/tcp to list listening sockets")
    port_hex = f"{server['port']:04X}"
    listening = []
    for table in (tcp, Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, port = local.rsplit(":", 1)
            if port == port_hex and state == "0A":  # 0A = LISTEN
                listening.append((table.name, addr))
    assert listening == [("tcp", "0100007F")], listening  # 127.0.0.1, no IPv6, no 0.0.0.0


def test_page_has_no_cell_source(server):
    with urllib.request.urlopen(f"{server['url']}/?token={TOKEN}", timeout=120) as resp:
        assert resp.status == 200
        page = resp.read().decode("utf-8")
    for source in ("from cxkit.dashboard import", "resolve_run_dir", "app.container",
                   "App("):
        assert source not in page


def test_renders_run_and_filters_by_segment(server, module_run_dir):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(f"{server['url']}/?token={TOKEN}", timeout=90_000)
            page.get_by_text("CX overview: run 2024-05-01T060000Z").wait_for(timeout=90_000)

            table = page.locator(".cx-table").first  # Drivers tab: the importance table
            first_row = table.locator("tbody tr").first
            assert first_row.locator("td").first.inner_text() == "delivery"  # North's top
            before = table.inner_text()
            plot = page.locator(".widget-image").first  # Drivers tab: the importance plot
            src_before = plot.get_attribute("src")

            page.get_by_label("Segment", exact=True).select_option("South")
            page.wait_for_function(
                "() => document.querySelector('.cx-table tbody td').innerText === 'price'",
                timeout=30_000)
            assert table.inner_text() != before
            assert "0.800" in table.inner_text()  # South's price importance
            # the plot is sent before the table, so its new PNG is there already
            assert plot.get_attribute("src") != src_before

            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert "resolve_run_dir" not in page.content()

            kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', page.content())
            assert kernel_id, "voila page carries no kernel id"
            _assert_browser_cannot_execute(server, kernel_id.group(1), module_run_dir)
        finally:
            browser.close()


def _assert_browser_cannot_execute(server, kernel_id: str, run_dir: Path) -> None:
    """Over the page's own kernel websocket, a kernel_info_request is answered (the channel
    works) but an execute_request is dropped: the marker file never appears."""
    from tornado.websocket import websocket_connect

    marker = run_dir.parent / "pwned.txt"

    def msg(msg_type: str, content: dict) -> str:
        header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": uuid.uuid4().hex,
                  "username": "attacker", "version": "5.3", "date": ""}
        return json.dumps({"header": header, "parent_header": {}, "metadata": {},
                           "content": content, "channel": "shell", "buffers": []})

    async def probe() -> list[str]:
        url = (f"ws://127.0.0.1:{server['port']}/api/kernels/{kernel_id}/channels"
               f"?token={TOKEN}")
        conn = await websocket_connect(url)
        seen = []
        try:
            conn.write_message(msg("execute_request", {
                "code": f"open({str(marker)!r}, 'w').write('ran')", "silent": False,
                "store_history": False, "user_expressions": {}, "allow_stdin": False}))
            conn.write_message(msg("kernel_info_request", {}))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and "kernel_info_reply" not in seen:
                raw = await asyncio.wait_for(conn.read_message(), timeout=20)
                if raw is None:
                    break
                if isinstance(raw, str):
                    seen.append(json.loads(raw)["header"]["msg_type"])
            await asyncio.sleep(2)  # give a (wrongly) accepted execute time to land
        finally:
            conn.close()
        return seen

    # Playwright's sync API owns this thread's event loop: probe from a thread of its own
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, probe()).result(timeout=60)
    assert "kernel_info_reply" in seen, f"websocket gave no kernel_info_reply: {seen}"
    assert "execute_reply" not in seen and "execute_input" not in seen
    assert not marker.exists(), "the kernel ran code sent over the browser websocket"
