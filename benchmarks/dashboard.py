"""Dashboard speed in a real browser: request to first figure, and widget change to new
figure, for each of the four dashboards, next to a floor baseline.

    python benchmarks/dashboard.py                       # reports/latest, 3 rounds
    python benchmarks/dashboard.py --run-dir reports/X --rounds 5
    python benchmarks/dashboard.py --preheat 0           # without Voila's kernel pool

Targets (issue #11): first figure <= 3 s, widget change <= 0.5 s, on the sample run.
Baseline, served by the same Voila in the same run: ``floor``, a notebook that shows one
tiny PNG in an ipywidgets Image (kernel start, Voila render, widget sync; no cxkit). The
ratio dashboard / floor survives a loaded machine better than seconds.

Each page is opened in a fresh headless Chromium page (Debian's /usr/bin/chromium through
Playwright); timing starts before ``page.goto`` and ends when the first figure image has
its ``src``. A widget change is timed from the select/fill to the figure's new ``src``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxkit.dashboards.serve import (dashboards_dir, process_tree, stop_tree,  # noqa: E402
                                    voila_command, voila_env)

CHROMIUM = "/usr/bin/chromium"
TOKEN = "bench"
FLOOR = '''{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {},
 "outputs": [], "source": ["import base64, ipywidgets as w\\n",
 "png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\\n",
 "w.Image(value=png, format='png')"]}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
 "name": "python3"}}, "nbformat": 4, "nbformat_minor": 4}'''

#: dashboard -> (figure index that changes, action on the page)
CHANGES = {
    "journeys": (1, lambda p: p.get_by_role("button", name="touchpoint").click()),
    "drivers": (1, lambda p: p.get_by_label("Compare").select_option(index=2)),
    "initiatives": (0, lambda p: (p.get_by_label("One-off cost").fill("123456"),
                                  p.get_by_label("One-off cost").press("Enter"))),
    "customers": (0, lambda p: p.get_by_label("Region").select_option(index=1)),
    "voice": (0, lambda p: p.get_by_label("Segment by").select_option(index=1)),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(folder: Path, run_dir: Path, preheat: bool, log: Path):
    port = _free_port()
    cmd = [a if a != "--Voila.log_level=WARN" else "--Voila.log_level=INFO"
           for a in voila_command(folder, port=port, preheat=preheat)]
    proc = subprocess.Popen(cmd, env=voila_env(run_dir, TOKEN), stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"voila did not start:\n{log.read_text()}")
            time.sleep(0.3)


def _wait_refill(log: Path, name: str, timeout: float = 120) -> None:
    """Wait until Voila logs that the pool of ``name`` is filled again after a view."""
    used = log.read_text().count(f"for {name}.ipynb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.count(f"Kernel pool of {name}.ipynb is filled") >= used + 1:
            return
        time.sleep(0.5)


def _first_figure(browser, url: str, index: int = 0):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=120_000)
    img = page.locator(".widget-image").nth(index)
    try:
        img.wait_for(state="attached", timeout=120_000)
    except Exception:
        raise SystemExit(f"no figure on {url} after 120 s; the page says:\n"
                         f"{page.inner_text('body')[:2000]}") from None
    page.wait_for_function("(el) => el.getAttribute('src')", arg=img.element_handle(),
                           timeout=120_000)
    return page, time.perf_counter() - t0


def _change(page, name: str) -> float:
    index, act = CHANGES[name]
    img = page.locator(".widget-image").nth(index)
    before = img.get_attribute("src")
    t0 = time.perf_counter()
    act(page)
    page.wait_for_function("([el, b]) => el.getAttribute('src') !== b",
                           arg=[img.element_handle(), before], timeout=60_000)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", default=str(ROOT / "reports" / "latest"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--preheat", type=int, default=1, help="1: Voila kernel pool (default)")
    ap.add_argument("--fixture", action="store_true",
                    help="use the test fixture run (every table, 80 customers) instead")
    args = ap.parse_args(argv)
    if args.fixture:
        from tests.dashboards.conftest import make_reports

        args.run_dir = str(make_reports(Path(tempfile.mkdtemp(prefix="cxkit-fx-")) / "r"))
    from cxkit.dashboards import (CustomersApp, DriversApp, InitiativesApp, JourneysApp,
                                   VoiceApp)
    from cxkit.dashboards.run import load_run

    pages = ["floor"]
    for name, app in (("journeys", JourneysApp), ("drivers", DriversApp),
                      ("initiatives", InitiativesApp), ("customers", CustomersApp),
                      ("voice", VoiceApp)):
        lacking = load_run(args.run_dir, app.required).problems
        if lacking:
            print(f"{name}: skipped, {lacking[0]}")
        else:
            pages.append(name)
    import signal

    from playwright.sync_api import sync_playwright

    def on_term(signum, frame):  # stop Voila and its kernels on SIGTERM too
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    tmp = Path(tempfile.mkdtemp(prefix="cxkit-bench-"))
    for nb in dashboards_dir().glob("*.ipynb"):
        shutil.copy(nb, tmp / nb.name)
    (tmp / "floor.ipynb").write_text(FLOOR)
    proc, port = _start(tmp, Path(args.run_dir), bool(args.preheat), tmp / "voila.log")
    load = os.getloadavg()
    results: dict[str, dict[str, list[float]]] = {}
    try:
        if args.preheat:  # let every pool fill before the first request
            deadline = time.monotonic() + 300
            while (log := (tmp / "voila.log").read_text()).count("Kernel pool of") < 5:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the kernel pools did not fill in 300 s:\n{log}")
                time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            for _ in range(args.rounds):
                for name in pages:
                    url = f"http://127.0.0.1:{port}/voila/render/{name}.ipynb?token={TOKEN}"
                    page, first = _first_figure(browser, url)
                    r = results.setdefault(name, {"first": [], "change": []})
                    r["first"].append(first)
                    if name in CHANGES:
                        try:
                            r["change"].append(_change(page, name))
                        except Exception as exc:  # noqa: BLE001 - say which page, go on
                            print(f"{name}: widget change not seen ({exc})", flush=True)
                            r["change"].append(float("nan"))
                    page.close()
                    if args.preheat:  # the pool of this page refills before the next view
                        _wait_refill(tmp / "voila.log", name)
            browser.close()
    finally:
        stop_tree(proc, set(process_tree(proc.pid)))
        shutil.rmtree(tmp, ignore_errors=True)

    floor = statistics.median(results["floor"]["first"])
    print(f"run {args.run_dir}; {args.rounds} rounds; preheat={bool(args.preheat)}; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {os.cpu_count()} cpus")
    print(f"{'page':<12} {'first figure (median)':>22} {'runs':>22} {'/ floor':>8} "
          f"{'widget change':>14} {'target':>16}")
    ok = True
    for name, r in results.items():
        first = statistics.median(r["first"])
        change = statistics.median(r["change"]) if r["change"] else float("nan")
        hit = name == "floor" or (first <= 3.0 and change <= 0.5)
        ok &= hit
        runs = ", ".join(f"{x:.2f}" for x in r["first"])
        print(f"{name:<12} {first:>20.2f} s {runs:>22} {first / floor:>7.1f}x "
              f"{change:>12.2f} s {'-' if name == 'floor' else ('met' if hit else 'MISSED'):>16}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
