"""The served dashboards in a real headless Chromium: each renders, reacts to a widget,
hides a small segment, downloads CSV, loads nothing from the internet; auth and binding;
the browser cannot run code; 50 page views leave a bounded number of kernels.

One Voila server for the module, started with the command line and environment
``cxkit.dashboards.serve`` uses (idle culling shortened to seconds), always stopped.
Screenshots go to ``build/dashboards/``. Chromium is Debian's ``/usr/bin/chromium``;
Playwright never downloads a browser.
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

from cxkit.dashboards.serve import dashboards_dir, process_tree, stop_tree, voila_command, voila_env

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
TOKEN = "cxkit-test-" + uuid.uuid4().hex
SHOTS = Path(__file__).resolve().parents[2] / "build" / "dashboards"
CULL = 4  # seconds of idleness before an unconnected kernel is culled, in this test server


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
    cmd = voila_command(dashboards_dir(), port=port, cull_idle_timeout=CULL, cull_interval=1)
    with open(log, "w") as log_file:
        proc = subprocess.Popen(cmd, env=voila_env(module_run_dir, TOKEN), stdout=log_file,
                                stderr=subprocess.STDOUT, start_new_session=True)
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
        stop_tree(proc, set(process_tree(proc.pid)))


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, server, name: str):
    """A page of dashboard ``name``, rendered, with every URL it requested recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page.requested = []
    page.on("request", lambda req: page.requested.append(req.url))
    page.goto(f"{server['url']}/voila/render/{name}.ipynb?token={TOKEN}", timeout=90_000)
    page.locator(".cx-title").wait_for(timeout=90_000)
    page.locator(".widget-image img, img.widget-image, .widget-image").first.wait_for(
        timeout=60_000)
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _offline(page) -> None:
    outside = [u for u in page.requested
               if not re.match(r"^(http://127\.0\.0\.1:\d+/|data:|blob:|about:)", u)]
    assert outside == [], f"the page requested outside URLs: {outside}"


def _src(page, i: int = 0) -> str:
    return page.locator(".widget-image").nth(i).get_attribute("src")


def test_journeys_renders_filters_and_hides_small_segment(browser, server):
    page = _open(browser, server, "journeys")
    try:
        assert "Run cx-test" in page.inner_text("body")
        assert "+5.0 since previous run" in page.inner_text("body")
        funnel = _src(page, 0)
        page.get_by_label("Segment by").select_option("region")
        page.get_by_label("Segment", exact=True).select_option("North")
        page.wait_for_function(f"() => document.querySelector('.widget-image').src !== {json.dumps(funnel)}",
                               timeout=30_000)
        _shot(page, "journeys")
        page.get_by_label("Segment", exact=True).select_option("Tiny")
        page.get_by_text("too few responses").first.wait_for(timeout=30_000)
        _offline(page)
    finally:
        page.close()


def test_drivers_plain_words_side_by_side_and_floor(browser, server):
    page = _open(browser, server, "drivers")
    try:
        body = page.inner_text("body")
        assert "points on the 0-10 recommend scale per rating point" in body
        right = _src(page, 1)
        page.get_by_label("Compare").select_option("Tiny")
        page.get_by_text("Tiny: too few responses (12).").wait_for(timeout=30_000)
        assert _src(page, 1) != right
        _shot(page, "drivers")
        _offline(page)
    finally:
        page.close()


def test_initiatives_cost_edit_updates_probability(browser, server):
    page = _open(browser, server, "initiatives")
    try:
        p_line = page.get_by_text("chance it pays back").first
        before = p_line.inner_text()
        box = page.get_by_label("One-off cost")
        box.fill("16000")
        box.press("Enter")
        page.wait_for_function("(b) => ![...document.querySelectorAll('p')].some("
                               "p => p.innerText === b)", arg=before, timeout=30_000)
        assert "cost 16,000 BRL" in page.inner_text("body")
        assert "Planned combination" in page.inner_text("body")
        _shot(page, "initiatives")
        _offline(page)
    finally:
        page.close()


def test_customers_filter_and_csv_download(browser, server, tmp_path):
    page = _open(browser, server, "customers")
    try:
        assert "too few responses" in page.inner_text("body")  # Tiny's revenue at risk
        link = page.locator("a.cx-download")
        before = link.inner_text()
        page.get_by_label("Region").select_option("North")
        page.wait_for_function("(b) => document.querySelector('a.cx-download').innerText !== b",
                               arg=before, timeout=30_000)
        with page.expect_download(timeout=30_000) as info:
            link.click()
        path = tmp_path / "at_risk.csv"
        info.value.save_as(path)
        lines = path.read_text().splitlines()
        assert lines[0].startswith("customer_id,region")
        assert len(lines) - 1 == int(re.search(r"these (\d+) customers", link.inner_text())[1])
        assert all(",North," in line for line in lines[1:])
        _shot(page, "customers")
        _offline(page)
    finally:
        page.close()


def test_voice_segment_filter_trend_examples_and_floor(browser, server):
    page = _open(browser, server, "voice")
    try:
        body = page.inner_text("body")
        assert "late, delivery, days, parcel" in body
        assert "Compared with run 2024-04-01T060000Z" in body
        assert "days late" in body and "app crashed" not in body  # topic 3 under the floor
        before = _src(page, 0)
        page.get_by_label("Segment by").select_option("region")
        page.wait_for_function(f"() => document.querySelector('.widget-image').src !== "
                               f"{json.dumps(before)}", timeout=30_000)
        page.get_by_text("too few responses").first.wait_for(timeout=30_000)
        _shot(page, "voice")
        _offline(page)
    finally:
        page.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_token_loopback_and_no_source(server):
    opener = urllib.request.build_opener(_NoRedirect)
    for query in ("", "?token=wrong"):
        with pytest.raises(urllib.error.HTTPError) as info:
            opener.open(f"{server['url']}/voila/render/drivers.ipynb{query}", timeout=30)
        assert info.value.code in (302, 403)
    port_hex = f"{server['port']:04X}"
    listening = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if local.rsplit(":", 1)[1] == port_hex and state == "0A":
                listening.append((table.name, local.rsplit(":", 1)[0]))
    assert listening == [("tcp", "0100007F")], listening  # 127.0.0.1 only
    with urllib.request.urlopen(f"{server['url']}/voila/render/customers.ipynb?token={TOKEN}",
                                timeout=120) as resp:
        page = resp.read().decode()
    for source in ("from cxkit.dashboards import", "resolve_run_dir", "app.container"):
        assert source not in page
    assert "cdn.jsdelivr.net" not in page and "cdnjs.cloudflare.com" not in page


def test_browser_cannot_execute_code(browser, server, module_run_dir):
    page = _open(browser, server, "drivers")
    try:
        kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', page.content())
        assert kernel_id, "voila page carries no kernel id"
        marker = module_run_dir.parent / "pwned.txt"
        with ThreadPoolExecutor(1) as pool:  # Playwright owns this thread's event loop
            seen = pool.submit(asyncio.run, _probe(server, kernel_id[1], marker)).result(60)
        assert "kernel_info_reply" in seen, f"websocket gave no kernel_info_reply: {seen}"
        assert "execute_reply" not in seen and "execute_input" not in seen
        assert not marker.exists(), "the kernel ran code sent over the browser websocket"
    finally:
        page.close()


async def _probe(server, kernel_id: str, marker: Path) -> list[str]:
    from tornado.websocket import websocket_connect

    def msg(msg_type: str, content: dict) -> str:
        header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": uuid.uuid4().hex,
                  "username": "attacker", "version": "5.3", "date": ""}
        return json.dumps({"header": header, "parent_header": {}, "metadata": {},
                           "content": content, "channel": "shell", "buffers": []})

    conn = await websocket_connect(f"ws://127.0.0.1:{server['port']}/api/kernels/{kernel_id}"
                                   f"/channels?token={TOKEN}")
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
        await asyncio.sleep(2)
    finally:
        conn.close()
    return seen


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # the process ended between listing and reading (a culled kernel)
        return b""


def _kernels(server) -> list[int]:
    return [p for p in process_tree(server["proc"].pid)[1:] if b"ipykernel" in _cmdline(p)]


@pytest.mark.slow
def test_fifty_page_views_leave_bounded_kernels_and_quiet_logs(server):
    """50 views (5 at a time); each takes a kernel (from the pre-heated pool, which then
    starts a new one), culled once idle and unconnected for CULL seconds: afterwards the
    server holds the pool (one kernel per dashboard) plus at most 2, and the log has no line
    per request."""
    import psutil

    url = f"{server['url']}/voila/render/drivers.ipynb?token={TOKEN}"
    log_start = len(server["log"].read_text())

    def view(_):
        with urllib.request.urlopen(url, timeout=180) as resp:
            resp.read()
            return resp.status

    peak = 0
    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(view, i) for i in range(50)]
        while not all(f.done() for f in futures):
            peak = max(peak, len(_kernels(server)))
            time.sleep(0.5)
        assert [f.result() for f in futures] == [200] * 50
    deadline = time.monotonic() + CULL + 30
    bound = len(list(dashboards_dir().glob("*.ipynb"))) + 2  # the pool + stragglers
    while len(_kernels(server)) > bound and time.monotonic() < deadline:
        time.sleep(1)
    left = _kernels(server)
    rss = sum(psutil.Process(p).memory_info().rss for p in left) / 2**20
    assert len(left) <= bound, f"{len(left)} kernels after 50 views (peak {peak})"
    assert rss < bound * 400, f"kernels hold {rss:.0f} MiB"
    log = server["log"].read_text()[log_start:]
    assert log == "", f"the log has lines from the page views:\n{log[-2000:]}"
