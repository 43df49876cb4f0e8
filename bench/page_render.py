"""Dashboards in a real browser: how long each page takes to render completely in headless
Chromium, at its default view and after a change of period.

Run from the repository root against a running server, e.g. the demo's:

    .venv/bin/memberhub demo &        # prints the marketer's password
    .venv/bin/python -m bench.page_render --password <marketer password>

Options: `--url` (default http://127.0.0.1:8000), `--username` (default marketer),
`--repeat` (full loads per page, default 3). It uses Debian's chromium and chromedriver
by path (nothing is downloaded).

A page is rendered when Dash has no callback pending, every chart is drawn by Plotly,
every grid shows rows (or says it has none) and every table is filled. A full load
opens the page's URL afresh; a filter change clicks a period preset (7, 90, then 30
days) and waits for the page rendered again from the new URL. The baseline measured in
the same run is a full load of the login page (Dash and its scripts, no data). The last
line printed is one JSON object: per page the median and slowest full load and filter
change in seconds, `worst_load_s`, `worst_change_s` and `ratio` (the worst full load over
the login page's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bench.dashboards import PAGES

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PRESETS = ("7", "90", "30")
RENDERED = """
const prefix = arguments[0];
if (!window.store) { return false; }
const pending = Object.assign({}, window.store.getState().callbacks);
delete pending.stored; delete pending.completed;
if (Object.values(pending).reduce((n, list) => n + list.length, 0)) { return false; }
if (!document.getElementById(prefix + '-page')) { return false; }
for (const el of document.querySelectorAll('[id^="' + prefix + '-chart-"]')) {
    const plot = el.classList.contains('js-plotly-plot') ? el : el.querySelector('.js-plotly-plot');
    if (!(plot && plot._fullLayout)) { return false; }
}
for (const grid of document.querySelectorAll('[id^="' + prefix + '-grid-"].ag-theme-alpine')) {
    if (!grid.querySelector('.ag-center-cols-container [role=row], .ag-overlay-no-rows-center')) {
        return false;
    }
}
for (const table of document.querySelectorAll('[id^="' + prefix + '-table-"].table-wrap')) {
    if (!table.querySelector('table, .empty')) { return false; }
}
return true;
"""


def say(line: str) -> None:
    print(line, flush=True)


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1440,900",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def wait_rendered(driver: webdriver.Chrome, prefix: str, began: float) -> float:
    WebDriverWait(driver, 120, poll_frequency=0.02).until(
        lambda d: d.execute_script(RENDERED, prefix)
    )
    return time.perf_counter() - began


def login_page(driver: webdriver.Chrome, url: str) -> float:
    began = time.perf_counter()
    driver.get(url + "/dashboards/login")
    WebDriverWait(driver, 60, poll_frequency=0.02).until(
        lambda d: d.find_elements(By.ID, "login-username")
    )
    return time.perf_counter() - began


def log_in(driver: webdriver.Chrome, url: str, username: str, password: str) -> None:
    login_page(driver, url)
    driver.find_element(By.ID, "login-username").send_keys(username)
    driver.find_element(By.ID, "login-password").send_keys(password, Keys.ENTER)
    WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)


def full_load(driver: webdriver.Chrome, url: str, prefix: str, path: str) -> float:
    began = time.perf_counter()
    driver.get(url + path)
    return wait_rendered(driver, prefix, began)


def filter_change(driver: webdriver.Chrome, prefix: str, days: str) -> float | None:
    """Click the preset of `days` days; None when the page has no such preset."""
    choices = driver.find_elements(
        By.CSS_SELECTOR, f"#{prefix}-filter-preset input[value='{days}']"
    )
    if not choices:
        return None
    before = driver.current_url
    began = time.perf_counter()
    driver.execute_script("arguments[0].click();", choices[0])
    WebDriverWait(driver, 60, poll_frequency=0.02).until(lambda d: d.current_url != before)
    return wait_rendered(driver, prefix, began)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(values), 2), "max_s": round(max(values), 2)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.page_render", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="marketer")
    parser.add_argument("--password", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise SystemExit("needs Debian's chromium and chromium-driver (apt-get install)")
    driver = browser()
    try:
        baseline = [login_page(driver, args.url) for _ in range(args.repeat)]
        log_in(driver, args.url, args.username, args.password)
        report: dict[str, dict[str, dict[str, float]]] = {}
        for prefix, path in PAGES.items():
            full_load(driver, args.url, prefix, path)  # warm: scripts cached, first plans
            loads = [full_load(driver, args.url, prefix, path) for _ in range(args.repeat)]
            changes = [c for days in PRESETS if (c := filter_change(driver, prefix, days))]
            report[prefix] = {"load": summary(loads)}
            if changes:
                report[prefix]["change"] = summary(changes)
            say(f"{prefix:10} load {report[prefix]['load']}  change {report[prefix].get('change')}")
    finally:
        driver.quit()
    worst_load = max(page["load"]["max_s"] for page in report.values())
    worst_change = max(page["change"]["max_s"] for page in report.values() if "change" in page)
    login = statistics.median(baseline)
    say(f"login page (baseline) {login:.2f} s")
    say(
        json.dumps(
            {
                "pages": report,
                "worst_load_s": worst_load,
                "worst_change_s": worst_change,
                "baseline_login_s": round(login, 2),
                "ratio": round(worst_load / login, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
