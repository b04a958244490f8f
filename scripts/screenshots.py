#!/usr/bin/env python
"""Screenshots of every ELEx view for docs/img/elex/, taken in headless Chromium (Debian's chromium).

    python scripts/screenshots.py [--results PATH ...] [--out docs/img/elex]

By default ELEx shows the MLEE reference logs (../shared/reference/mlee-imagenet-results) beside a few
made-up merged logs (``mlel.elex.synthetic.write_demo_logs``: power traces, a scaling series, a search).
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlel.cli import ArgumentParser, run_main, setup_logging  # noqa: E402

log = logging.getLogger("screenshots")
REFERENCE = ROOT.parent / "shared" / "reference" / "mlee-imagenet-results"


def browser(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def serve(app, port: int):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(driver, css: str, timeout: float = 30.0):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def settle(driver, seconds: float = 1.5) -> None:
    """Wait until Dash has no callback in flight, then a little for plotly to draw."""
    deadline = time.time() + 30
    while time.time() < deadline:
        if not driver.execute_script("return !!document.querySelector('[data-dash-is-loading=\"true\"]')"):
            break
        time.sleep(0.2)
    time.sleep(seconds)


def click_tab(driver, label: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//a[contains(@class,'nav-link') and normalize-space()='{label}']").click()
    settle(driver)


def click_point(driver, model: str | None = None) -> None:
    """Click a scatter point (of ``model`` if given) the way a user does: move there, click."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    points = driver.find_elements(By.CSS_SELECTOR, "#scatter .scatterlayer .points path")
    if model:
        index = driver.execute_script(
            "const g = document.querySelector('#scatter .js-plotly-plot');"
            "let k = 0; for (const t of g.data) { if (t.type !== 'scatter' || !t.customdata) continue;"
            " for (const c of t.customdata) { if (c[1] === arguments[0]) return k; k++; } } return 0;", model)
        points = points[index:] + points[:index]
    ActionChains(driver).move_to_element(points[0]).click().perform()


def main(argv=None) -> int:
    parser = ArgumentParser(prog="screenshots.py", description=__doc__.splitlines()[0])
    parser.add_argument("--results", nargs="*", default=None, help="results to show (default: MLEE reference + demo logs)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "elex"), help="where the PNGs go (default: docs/img/elex)")
    parser.add_argument("--port", type=int, default=8765, help="port of the temporary ELEx server (default: 8765)")
    args = parser.parse_args(argv)
    from mlel.cli import check_listen_address

    check_listen_address("127.0.0.1", args.port)  # before Chrome starts: a busy port is one line, not a traceback
    setup_logging()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request drowned what the script says
    from mlel.elex import create_app
    from mlel.elex.synthetic import write_demo_logs

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.results
        if paths is None:
            write_demo_logs(Path(tmp) / "demo")
            paths = [str(Path(tmp) / "demo")] + ([str(REFERENCE)] if REFERENCE.is_dir() else [])
        app = create_app(paths)
        server = serve(app, args.port)
        driver = browser(1500, 1050)
        try:
            from selenium.webdriver.common.by import By

            driver.get(f"http://127.0.0.1:{args.port}/")
            wait_for(driver, "#scatter .scatterlayer .trace")
            settle(driver, 2.5)
            driver.save_screenshot(str(out / "tradeoff.png"))
            log.info("wrote %s", out / "tradeoff.png")

            # index values on log-log axes with the rating grid
            driver.find_element(By.CSS_SELECTOR, "#axis-values input[value='index']").click()
            settle(driver, 2.0)
            driver.save_screenshot(str(out / "tradeoff-index.png"))

            driver.find_element(By.CSS_SELECTOR, "#axis-values input[value='value']").click()
            settle(driver)
            click_point(driver, model="mlp")
            wait_for(driver, "#experiment-label[src]")
            settle(driver, 2.0)
            driver.save_screenshot(str(out / "experiment.png"))

            click_tab(driver, "Hardware comparison")
            driver.save_screenshot(str(out / "hardware.png"))
            driver.find_element(By.CSS_SELECTOR, "#filter-task input[value='train']").click()
            settle(driver)
            click_tab(driver, "Scaling")
            driver.save_screenshot(str(out / "scaling.png"))
            click_tab(driver, "Trade-off search")
            driver.save_screenshot(str(out / "search.png"))
            log.info("wrote the screenshots to %s", out)
        finally:
            driver.quit()
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main, prog="screenshots.py"))
