"""Dashboards in a real browser: how long each page takes to render completely in headless
Chromium, at its default view and after a filter change, and how long the server took to
answer its callbacks meanwhile.

Run from the repository root against a running server, e.g. the demo's:

    .venv/bin/memberhub demo &        # prints the marketer's password
    .venv/bin/python -m bench.dashboards_browser --password <marketer password>

Options: `--url` (default http://127.0.0.1:8000), `--username` (default marketer),
`--repeat` (full loads and filter changes per page, default 5), `--finance-password` (also
time finance's Clearing page, as `finance`; it has no period presets, so full loads only).
It uses Debian's chromium and chromedriver by path (nothing is downloaded).

A page is rendered when Dash has no callback pending, every chart is drawn by Plotly,
every grid shows rows (or says it has none) and every table is filled. A full load opens
the page's URL afresh; a filter change clicks a period preset (7, 90, 30, 7, 30 days in
turn) and waits for the page rendered again from the new URL. The callbacks' server time
is each `_dash-update-component` request's time to first byte, read from the browser's
resource timing. The baseline measured in the same run is a full load of the login page
(Dash and its scripts, no data). The last line printed is one JSON object: per page p50
and p95 in ms of the full loads, the filter changes and the callbacks;
`worst_default_p95_ms` and `worst_filter_p95_ms` (the slowest page's p95, with
`worst_default_page` and `worst_filter_page`), and `ratio` (`worst_default_p95_ms` over
the login page's p50).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bench.common import percentile
from bench.dashboards import PAGES

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PRESETS = ("7", "90", "30", "7", "30")
CALLBACK_TIMES = """
return performance.getEntriesByType('resource')
    .filter(e => e.name.indexOf('_dash-update-component') !== -1)
    .map(e => e.responseStart - e.requestStart);
"""
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
return true;
"""


def say(line: str) -> None:
    print(line, flush=True)


def chromium_options(width: int = 1440, height: int = 900) -> webdriver.ChromeOptions:
    """Debian's headless Chromium as the bench and the browser test run it."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    return options


def browser() -> webdriver.Chrome:
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=chromium_options())


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


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(value * 1000 for value in seconds)
    return {
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboards_browser", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="marketer")
    parser.add_argument("--password", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--finance-password", help="also time the Clearing page as finance")
    return parser.parse_args(argv)


def measure_page(
    driver: webdriver.Chrome, url: str, prefix: str, path: str, repeat: int
) -> dict[str, dict[str, float]]:
    """Full loads (after one to warm the caches) and period-preset changes of one page,
    and its callbacks' server time meanwhile."""
    full_load(driver, url, prefix, path)  # warm: scripts cached, first plans
    loads: list[float] = []
    callbacks: list[float] = []
    for _ in range(repeat):
        loads.append(full_load(driver, url, prefix, path))
        callbacks += [ms / 1000 for ms in driver.execute_script(CALLBACK_TIMES)]
    changes: list[float] = []
    for days in (PRESETS * repeat)[:repeat]:
        driver.execute_script("performance.clearResourceTimings();")
        took = filter_change(driver, prefix, days)
        if took is not None:
            changes.append(took)
            callbacks += [ms / 1000 for ms in driver.execute_script(CALLBACK_TIMES)]
    measured = {"default": percentiles(loads), "callbacks": percentiles(callbacks)}
    if changes:
        measured["filter"] = percentiles(changes)
    say(f"{prefix:10} " + "  ".join(f"{k} {v}" for k, v in measured.items()))
    return measured


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise SystemExit("needs Debian's chromium and chromium-driver (apt-get install)")
    driver = browser()
    report: dict[str, dict[str, dict[str, float]]] = {}
    try:
        baseline = [login_page(driver, args.url) for _ in range(args.repeat)]
        log_in(driver, args.url, args.username, args.password)
        for prefix, path in PAGES.items():
            report[prefix] = measure_page(driver, args.url, prefix, path, args.repeat)
        if args.finance_password:
            driver.get(args.url + "/dashboards/logout")
            log_in(driver, args.url, "finance", args.finance_password)
            report["clearing"] = measure_page(
                driver, args.url, "clearing", "/dashboards/clearing", args.repeat
            )
    finally:
        driver.quit()
    default_page = max(report, key=lambda page: report[page]["default"]["p95_ms"])
    filtered = [page for page in report if "filter" in report[page]]
    filter_page = max(filtered, key=lambda page: report[page]["filter"]["p95_ms"])
    login_ms = percentile(sorted(baseline), 0.50) * 1000
    say(f"login page (baseline) p50 {login_ms:.0f} ms")
    worst_default = report[default_page]["default"]["p95_ms"]
    say(
        json.dumps(
            {
                "pages": report,
                "worst_default_p95_ms": worst_default,
                "worst_default_page": default_page,
                "worst_filter_p95_ms": report[filter_page]["filter"]["p95_ms"],
                "worst_filter_page": filter_page,
                "baseline_login_p50_ms": round(login_ms, 1),
                "ratio": round(worst_default / login_ms, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
