"""The dashboards in real headless Chromium against a running server.

A marketer logs in, opens every page (and a campaign's detail view), narrows the period
and the channel and sees the headline numbers move to the warehouse's figures, downloads
a table as CSV, switches to English with the filters kept, and the browser console stays
free of errors. Then the session ends: logging out leads to the login page and keeps the
pages shut, and a session ended on the server (a password reset) sends the open page to
the login page at its next callback. Every page is saved as a screenshot under
test-artifacts/screenshots/.

Uses Debian's chromium and chromedriver by path (nothing is downloaded; Selenium Manager
is never asked); skipped when they are not installed.
"""

from __future__ import annotations

import base64
import csv
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest
from flask.testing import FlaskClient
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from bench.dashboards_browser import CHROMEDRIVER, CHROMIUM, chromium_options
from bench.server import RunningServer, start_server
from common.clock import today
from common.db import read_session
from common.unit_of_work import transaction
from dashboards.i18n import Lang, money, t, yuan
from memberhub.runtime import Runtime
from storefront_api import clearing
from storefront_api.auth import create_staff_user, reset_staff_password
from tests.integration import dashboard_scenario
from warehouse import WarehouseReader, queries, sync_warehouse
from warehouse.queries import Filters

ON_POSTGRES = os.environ.get("MEMBERHUB_TEST_DB", "").startswith("postgres")
BACKEND = "postgresql" if ON_POSTGRES else "sqlite"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / BACKEND
WIDTH, HEIGHT = 1440, 1000
# Generous: the first render of a page compiles Plotly in a cold browser on a busy 2-core
# machine. Waits end as soon as their condition holds; nothing asserts on time.
TIMEOUT = 90
USERNAME = "browser-marketer"
FINANCE_USERNAME = "browser-finance"
CLOSE_REASON = "柜台漏报一笔 / the counter missed a sale"

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, chromedriver)",
    ),
    pytest.mark.server,
]

# Which headline each page is known by once its callbacks have answered.
PAGES = {
    "overview": ("/dashboards/", "overview-kpi-gmv-value"),
    "campaigns": ("/dashboards/campaigns", "campaigns-kpi-points-cost-value"),
    "channels": ("/dashboards/channels", "channels-kpi-gmv-value"),
    "members": ("/dashboards/members", "members-kpi-new-members-value"),
    "insights": ("/dashboards/insights", "insights-kpi-scored-value"),
    "points": ("/dashboards/points", "points-kpi-issued-value"),
}

# Callbacks still queued or running in Dash's renderer (as dash.testing reads them).
PENDING_CALLBACKS = """
    if (!window.store) { return -1; }
    const callbacks = Object.assign({}, window.store.getState().callbacks);
    delete callbacks.stored;
    delete callbacks.completed;
    return Object.values(callbacks).reduce((n, list) => n + list.length, 0);
"""
# The bar of the counters in the Channels page's GMV chart (its customdata names it).
COUNTER_BAR = """
    const plot = document.querySelector('#channels-chart-gmv .js-plotly-plot')
        || document.getElementById('channels-chart-gmv');
    const index = plot.data[0].customdata.indexOf('counter');
    return index < 0 ? null : plot.querySelectorAll('.bars .point')[index];
"""
# Every chart of the page: drawn by Plotly, and with traces or an empty-state message.
CHARTS = """
    return Array.from(document.querySelectorAll('[id^="' + arguments[0] + '-chart-"]'))
        .map(el => {
            const plot = el.classList.contains('js-plotly-plot')
                ? el : el.querySelector('.js-plotly-plot');
            const drawn = !!(plot && plot._fullLayout);
            const traces = drawn ? (plot.data || []).length : 0;
            const notes = drawn ? ((plot.layout || {}).annotations || []).length : 0;
            return [el.id, drawn, traces, notes];
        });
"""


@dataclass
class Browser:
    """A Chromium session with the waits a Dash app needs."""

    driver: webdriver.Chrome
    base_url: str
    downloads: Path
    console: list[dict[str, Any]] = field(default_factory=list)

    def wait(self, condition: Callable[[webdriver.Chrome], Any], what: str) -> Any:
        return WebDriverWait(
            self.driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)
        ).until(condition, f"waited {TIMEOUT} s for {what} at {self.driver.current_url}")

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def first(self, by: str, selector: str) -> WebElement:
        """The first element matching, once there is one."""
        return self.wait(lambda d: next(iter(d.find_elements(by, selector)), None), selector)

    def element(self, element_id: str) -> WebElement:
        return self.first(By.ID, element_id)

    def text_of(self, element_id: str) -> str:
        """The element's text, or "" while it is missing or being replaced by a render."""
        try:
            found = self.driver.find_elements(By.ID, element_id)
            return found[0].text if found else ""
        except StaleElementReferenceException:
            return ""

    def wait_for_text(self, element_id: str, expected: str) -> None:
        self.wait(lambda d: self.text_of(element_id) == expected, f"#{element_id} = {expected!r}")

    def settled(self, prefix: str, headline_id: str) -> None:
        """The page's headline is shown and no callback is pending any more."""
        self.element(headline_id)
        self.wait(lambda d: d.execute_script(PENDING_CALLBACKS) == 0, "callbacks to finish")
        self.wait(
            lambda d: all(drawn for _, drawn, _, _ in d.execute_script(CHARTS, prefix)),
            f"every {prefix} chart to be drawn",
        )

    def charts(self, prefix: str) -> list[tuple[str, bool, int, int]]:
        return [tuple(row) for row in self.driver.execute_script(CHARTS, prefix)]

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlparse(self.driver.current_url).query))

    def path(self) -> str:
        return urlparse(self.driver.current_url).path

    def click(self, element: WebElement) -> None:
        # Through JavaScript: a sticky header or an open popover must not swallow it.
        self.driver.execute_script("arguments[0].click();", element)

    def pick(self, dropdown_id: str, value: str) -> None:
        """Opens a dcc.Dropdown and chooses the option with this value."""
        self.element(dropdown_id).click()
        self.first(
            By.XPATH,
            f"//label[contains(@class, 'dash-dropdown-option')][.//input[@value='{value}']]",
        ).click()

    def screenshot(self, name: str) -> Path:
        """The whole page, not only the window."""
        size = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1},
            },
        )
        target = SCREENSHOTS / f"{name}.png"
        target.write_bytes(base64.b64decode(shot["data"]))
        return target

    def collect_console(self) -> None:
        self.console.extend(self.driver.get_log("browser"))

    def console_errors(self) -> list[str]:
        self.collect_console()
        return [
            entry["message"]
            for entry in self.console
            if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
        ]

    def download(self, button_id: str, pattern: str) -> Path:
        self.click(self.element(button_id))

        def finished(_: Any) -> Path | None:
            done = [p for p in self.downloads.glob(pattern) if not p.name.endswith(".crdownload")]
            return done[0] if done else None

        found: Path = self.wait(finished, f"a download matching {pattern}")
        return found


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = chromium_options(WIDTH, HEIGHT)
    options.add_argument("--lang=zh-CN")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
        },
    )
    # The driver's path is given, so Selenium Manager is never run (it would download).
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(WIDTH, HEIGHT)
    try:
        yield Browser(driver, "", downloads)
    finally:
        driver.quit()


@dataclass(frozen=True)
class World:
    server: RunningServer
    password: str
    last_day: date
    reader: WarehouseReader
    runtime: Runtime
    finance_password: str = ""
    # The cleared days: the newest is open, the one before closed with a reason.
    cleared: tuple[date, ...] = ()

    def reset_password(self) -> str:
        """What an admin does to a lost account: every session of it ends at once."""
        with transaction(self.runtime.session_factory) as uow:
            return reset_staff_password(uow, USERNAME)

    def gmv(self, days: int, channel: str | None = None) -> int:
        """The warehouse's GMV of the `days` days ending on the last complete day."""
        filters = Filters(self.last_day - timedelta(days=days - 1), self.last_day, channel=channel)
        totals = queries.headline_totals(self.reader, filters).set_index("period")
        return int(totals.loc["current", "gmv_fen"])


@pytest.fixture
def world(
    db: Runtime,
    client: FlaskClient,
    channel_key: Any,
    staff_token: Any,
    auth: Any,
    tmp_path: Path,
) -> Iterator[World]:
    """The dashboard scenario's history, synced into a warehouse, served by gunicorn."""
    dashboard_scenario.build(client, db, channel_key, staff_token, auth)
    dashboard_scenario.train_insights(db)
    var = tmp_path / "var"
    var.mkdir()
    # start_server points the server at var/warehouse.duckdb.
    warehouse_path = var / "warehouse.duckdb"
    cleared = _clear_last_days(db)
    sync_warehouse(db.engine, warehouse_path)
    with transaction(db.session_factory) as uow:
        password = create_staff_user(uow, USERNAME, "marketer")
    with transaction(db.session_factory) as uow:
        finance_password = create_staff_user(uow, FINANCE_USERNAME, "finance")
    reader = WarehouseReader(warehouse_path)
    # Periods end on the last complete day: the last day with data, but never today.
    with_data = queries.activity_range(reader)["last_day"].iloc[0].date()
    last_day = min(with_data, today() - timedelta(days=1))
    server = start_server(
        database_url=db.settings.database_url,
        secret_key=db.settings.secret_key,
        var_dir=var,
        workers=2,
        threads=4,
    )
    try:
        yield World(server, password, last_day, reader, db, finance_password, cleared)
    finally:
        server.stop()
        reader.close()


def _clear_last_days(db: Runtime) -> tuple[date, ...]:
    """Finance clears the last three days: the middle one's counter total misses a sale
    and is closed with a reason, the newest stays open."""
    last = today() - timedelta(days=1)
    days = (last - timedelta(days=2), last - timedelta(days=1), last)
    with transaction(db.session_factory) as uow:
        clearing.submit_control_total(
            uow,
            clearing.ControlTotalCommand(days[1], "SH-HP-0001", 1, 100, ("TILL-ONLY",)),
            channel="counter",
            actor="channel:counter",
        )
    for day in days:
        with transaction(db.session_factory) as uow:
            clearing.run_day(
                uow,
                day,
                actor="staff:finance",
                fen_per_point=db.settings.fen_per_point,
                close=day != last,
                reason=CLOSE_REASON if day == days[1] else None,
            )
    return days


def shown(fen: int, lang: Lang) -> str:
    return money(fen, lang).number


def test_a_marketer_uses_every_page_in_a_real_browser(browser: Browser, world: World) -> None:
    browser.base_url = world.server.base_url
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    try:
        _journey(browser, world)
    except (AssertionError, WebDriverException):
        browser.screenshot("failure")
        (SCREENSHOTS / "failure.html").write_text(browser.driver.page_source)
        browser.collect_console()
        (SCREENSHOTS / "failure-console.txt").write_text(
            "\n".join(str(entry) for entry in browser.console)
        )
        print(world.server.log()[-4000:])
        raise


def _journey(browser: Browser, world: World) -> None:
    month, year = world.gmv(30), world.gmv(365)
    counter = world.gmv(365, channel="counter")
    # The history must make every step below a visible change.
    assert len({month, year, counter}) == 3, (month, year, counter)

    # -- the login gate: anonymous visitors land on the login page, a wrong password says so
    browser.open("/dashboards/")
    browser.element("login-username")
    assert browser.path() == "/dashboards/login"
    browser.screenshot("01-login")
    browser.element("login-username").send_keys(USERNAME)
    browser.element("login-password").send_keys("not-the-password\n")
    browser.wait_for_text("login-message", t("login.failed", "zh"))
    # Select and retype, as a person would: clear() bypasses React's change events.
    browser.element("login-password").send_keys(Keys.CONTROL, "a")
    browser.element("login-password").send_keys(Keys.BACKSPACE, world.password, Keys.ENTER)

    # -- 总览: the last 30 days by default, with the warehouse's GMV
    browser.settled("overview", "overview-kpi-gmv-value")
    assert browser.path() == "/dashboards/"
    assert browser.text_of("header-user").startswith(USERNAME)
    assert browser.text_of("overview-kpi-gmv-value") == shown(month, "zh")
    assert _sideways(browser) <= 0, f"overview scrolls sideways at {WIDTH} px"
    browser.screenshot("02-overview")

    # -- a filter: the one-year preset moves the period in the URL and the headline; the
    # page follows in place (its charts are redrawn, not mounted afresh)
    chart = browser.first(By.CSS_SELECTOR, "[id^=overview-chart-] .js-plotly-plot")
    preset = browser.element("overview-filter-preset")
    browser.click(preset.find_element(By.CSS_SELECTOR, "label:nth-child(4)"))
    year_start = (world.last_day - timedelta(days=364)).isoformat()
    browser.wait(lambda d: browser.query().get("from") == year_start, "the one-year period")
    browser.wait_for_text("overview-kpi-gmv-value", shown(year, "zh"))
    browser.settled("overview", "overview-kpi-gmv-value")
    assert browser.query() == {"from": year_start, "to": world.last_day.isoformat()}
    assert year_start in browser.text_of("overview-period")
    assert chart.is_displayed()  # the same element: a new page would have made it stale
    browser.screenshot("03-overview-one-year")

    # -- a CSV download of the channel table: a header row, one row per channel, the GMV
    csv_file = browser.download(
        "overview-grid-channels-download-button", "memberhub-overview-channels-*.csv"
    )
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    notes = [line for line in lines if line.startswith("# ")]
    assert len(notes) == 3 and notes[-1].startswith(f"# {t('data_as_of', 'zh')}"), notes
    rows = list(csv.reader(lines[len(notes) :]))
    header, body = rows[0], rows[1:]
    gmv_header = f"{t('metric.gmv', 'zh')} ({t('unit.yuan', 'zh')})"
    assert header[0] == t("col.channel", "zh") and gmv_header in header, header
    assert body and all(len(row) == len(header) for row in body)
    column = header.index(gmv_header)
    assert sum(Decimal(row[column]) for row in body) == Decimal(year) / 100

    # -- every other page, reached through the navigation (which keeps the filters)
    for prefix in ("campaigns", "members", "insights", "points", "channels"):
        path, headline = PAGES[prefix]
        browser.click(browser.element(f"nav-{prefix}"))
        browser.wait(lambda d, path=path: browser.path() == path, f"the {prefix} page")
        browser.settled(prefix, headline)
        assert browser.query()["from"] == year_start, prefix
        _sees_content(browser, prefix)
        assert _sideways(browser) <= 0, f"{prefix} scrolls sideways at {WIDTH} px"
        browser.screenshot(f"04-{prefix}")
        browser.collect_console()
        if prefix == "campaigns":
            _campaign_table_fits(browser)
            _campaign_detail(browser)
        if prefix == "members":
            _member_list(browser, world)
        if prefix == "insights":
            _member_insights(browser)

    # -- a click on the counters' bar narrows the page; the breadcrumb says so and clears it
    assert browser.text_of("channels-kpi-gmv-value") == shown(year, "zh")
    bar = browser.driver.execute_script(COUNTER_BAR)
    assert bar is not None, "no bar for the counters"
    ActionChains(browser.driver).move_to_element(bar).click().perform()
    browser.wait(lambda d: browser.query().get("channel") == "counter", "a click to narrow")
    browser.wait_for_text("channels-kpi-gmv-value", shown(counter, "zh"))
    browser.settled("channels", "channels-kpi-gmv-value")
    assert t("filter.channel", "zh") in browser.element("channels-breadcrumb").text
    browser.screenshot("05-channels-clicked-counter")
    browser.element("channels-crumb-clear-channel").click()
    browser.wait(lambda d: "channel" not in browser.query(), "the breadcrumb to clear it")
    browser.wait_for_text("channels-kpi-gmv-value", shown(year, "zh"))
    browser.settled("channels", "channels-kpi-gmv-value")

    # -- periods end yesterday; today so far is one click away, and Back returns
    now = today().isoformat()
    browser.click(browser.element("channels-filter-today"))
    browser.wait(lambda d: browser.query().get("from") == now == browser.query()["to"], "today")
    browser.settled("channels", "channels-kpi-gmv-value")
    assert "active" in browser.element("channels-filter-today").get_attribute("class")
    browser.driver.back()
    browser.wait(lambda d: browser.query().get("from") == year_start, "the year again")
    browser.wait_for_text("channels-kpi-gmv-value", shown(year, "zh"))
    browser.settled("channels", "channels-kpi-gmv-value")

    # -- a typed range: the start typed, the end field clicked, the end typed with Enter
    first = (world.last_day - timedelta(days=29)).isoformat()
    last = (world.last_day - timedelta(days=10)).isoformat()
    start_field, end_field = browser.driver.find_elements(
        By.CSS_SELECTOR, "#channels-filter-bar .filter-dates input"
    )[:2]
    start_field.click()
    start_field.send_keys(Keys.CONTROL, "a")
    start_field.send_keys(first)
    end_field.click()
    end_field.send_keys(Keys.CONTROL, "a")
    end_field.send_keys(last, Keys.ENTER)
    browser.wait(
        lambda d: (browser.query().get("from"), browser.query().get("to")) == (first, last),
        f"the typed range {first} – {last}",
    )
    browser.settled("channels", "channels-kpi-gmv-value")
    browser.driver.back()
    browser.wait(lambda d: browser.query().get("from") == year_start, "the year again")
    browser.settled("channels", "channels-kpi-gmv-value")

    # -- the calendar speaks the UI's language
    calendar = _calendar_text(browser, "channels")
    assert re.search(r"\b20\d\d年1?\d月", calendar), calendar
    assert "一" in calendar.split() and "Mo" not in calendar.split()

    # -- the channel filter on the channels page narrows its GMV to the counters'
    browser.pick("channels-filter-channel", "counter")
    browser.wait(lambda d: browser.query().get("channel") == "counter", "channel=counter")
    browser.wait_for_text("channels-kpi-gmv-value", shown(counter, "zh"))
    browser.settled("channels", "channels-kpi-gmv-value")
    browser.screenshot("05-channels-counter")

    # -- English: every label switches, the filters stay in the URL
    assert browser.text_of("nav-overview") == t("nav.overview", "zh")
    browser.click(browser.element("lang-switch"))
    browser.wait_for_text("nav-overview", t("nav.overview", "en"))
    browser.wait_for_text("channels-kpi-gmv-value", shown(counter, "en"))
    browser.settled("channels", "channels-kpi-gmv-value")
    assert browser.query() == {
        "from": year_start,
        "to": world.last_day.isoformat(),
        "channel": "counter",
        "lang": "en",
    }
    assert browser.text_of("lang-switch") == t("lang.switch", "en")
    calendar = _calendar_text(browser, "channels")
    assert re.search(
        r"\b(January|February|March|April|May|June|July|August|September|"
        r"October|November|December) 20\d\d\b",
        calendar,
    ), calendar
    assert "Mo" in calendar.split(), calendar
    assert browser.text_of("header-product") == t("product", "en")
    assert browser.element("header-brand").get_attribute("href").endswith("lang=en")
    page = browser.element("channels-page").text
    assert t("nav.channels", "en") in page and t("metric.gmv", "en") in page
    assert t("block.channel_table", "zh") not in page
    browser.screenshot("06-en-channels")
    for prefix in ("overview", "campaigns", "members", "insights", "points"):
        path, headline = PAGES[prefix]
        browser.click(browser.element(f"nav-{prefix}"))
        browser.wait(lambda d, path=path: browser.path() == path, f"the {prefix} page")
        browser.settled(prefix, headline)
        assert browser.query()["lang"] == "en", prefix
        assert t(f"nav.{prefix}", "en") in browser.element(f"{prefix}-page").text
        browser.screenshot(f"07-en-{prefix}")

    # -- and nothing went wrong in the browser along the way (the login page included)
    errors = browser.console_errors()
    assert not errors, "\n".join(errors)

    # A marketer is not offered the Clearing page.
    assert not browser.element("nav-clearing").is_displayed()

    _charts_read_as_tables(browser)
    _saves_and_opens_a_view(browser)
    _keyboard_keeps_its_place(browser)
    _on_a_phone(browser)
    _session_ends(browser, world)
    _finance_clears(browser, world)


def _charts_read_as_tables(browser: Browser) -> None:
    """Each chart's text alternative: its card's button shows the data it draws as a
    table (the GMV by channel: one row per channel, with its value), and back."""
    browser.open("/dashboards/channels")
    browser.settled("channels", "channels-kpi-gmv-value")
    bars = browser.driver.execute_script(
        "const p = document.querySelector('#channels-chart-gmv .js-plotly-plot')"
        " || document.getElementById('channels-chart-gmv');"
        "return [p.data[0].y, p.data[0].x];"
    )
    button = browser.element("channels-as-table-gmv")
    assert button.text == t("chart.as_table", "zh")
    button.click()
    table = browser.element("channels-chart-gmv-table")
    rows = [row.text for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert len(rows) == len(bars[0]) and all(str(name) in " ".join(rows) for name in bars[0])
    heads = [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads[1] in (t("unit.wan_yuan", "zh"), t("unit.yuan", "zh")), heads
    assert not browser.element("channels-chart-gmv").is_displayed()
    assert button.get_attribute("aria-pressed") == "true"
    browser.screenshot("12-chart-as-table")
    button.click()
    browser.wait(lambda d: browser.element("channels-chart-gmv").is_displayed(), "the chart")
    assert not browser.driver.find_elements(By.ID, "channels-chart-gmv-table")


def _saves_and_opens_a_view(browser: Browser) -> None:
    """The current filters saved under a name come back from the views list: the panel
    closes, the status says so, and picking the view on another period opens its own."""
    browser.open("/dashboards/channels?channel=counter&lang=en")
    browser.settled("channels", "channels-kpi-gmv-value")
    # What the page shows: the default 30 days, which the view keeps as dates.
    start, end = (
        field.get_attribute("value")
        for field in browser.driver.find_elements(
            By.CSS_SELECTOR, "#channels-filter-bar .filter-dates input"
        )[:2]
    )
    saved = {"from": start, "to": end, "channel": "counter", "lang": "en"}
    browser.click(browser.first(By.CSS_SELECTOR, "#channels-views-details summary"))
    browser.element("channels-views-name").send_keys("Counter month")
    browser.click(browser.element("channels-views-save"))
    browser.wait(
        lambda d: browser.text_of("channels-views-status") == "Saved view “Counter month”",
        "the view to be saved",
    )
    assert browser.element("channels-views-details").get_attribute("open") is None
    browser.screenshot("13-view-saved")

    browser.open("/dashboards/channels?lang=en")
    browser.settled("channels", "channels-kpi-gmv-value")
    browser.click(browser.first(By.CSS_SELECTOR, "#channels-filter-preset label:first-child"))
    browser.wait(lambda d: "from" in browser.query(), "the 7-day period in the URL")
    browser.settled("channels", "channels-kpi-gmv-value")
    assert browser.query() != saved
    browser.element("channels-views").click()
    browser.click(
        browser.first(
            By.XPATH,
            "//label[contains(@class, 'dash-dropdown-option')][contains(., 'Counter month')]",
        )
    )
    browser.wait(lambda d: browser.query() == saved, "the saved view's filters in the URL")
    browser.settled("channels", "channels-kpi-gmv-value")
    assert "Counter month" in browser.text_of("channels-views")


def _sideways(browser: Browser) -> int:
    """How far the page itself scrolls sideways (grids and tables scroll inside)."""
    return int(
        browser.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def _keyboard_keeps_its_place(browser: Browser) -> None:
    """A preset chosen with the keyboard renders the page again; focus stays on the
    presets, visibly, instead of falling to the page body."""
    browser.open("/dashboards/channels")
    browser.settled("channels", "channels-kpi-gmv-value")
    before = browser.query()
    checked = browser.first(By.CSS_SELECTOR, "#channels-filter-preset input:checked")
    browser.driver.execute_script("arguments[0].focus();", checked)
    ActionChains(browser.driver).send_keys(Keys.ARROW_RIGHT).perform()
    browser.wait(lambda d: browser.query().get("from") != before.get("from"), "a new period")
    browser.settled("channels", "channels-kpi-gmv-value")
    browser.wait(
        lambda d: d.execute_script(
            "const a = document.activeElement;"
            "return !!(a && a.closest && a.closest('#channels-filter-preset'));"
        ),
        "focus back on the presets",
    )
    outline = browser.driver.execute_script(
        "const label = document.activeElement.closest('label');"
        "return getComputedStyle(label).outlineStyle;"
    )
    assert outline != "none", outline


def _on_a_phone(browser: Browser) -> None:
    """At 390 px: nothing scrolls sideways, the navigation and the filters fold behind
    buttons, the language switch and logout stay on screen, grids hold their first
    column."""
    browser.driver.set_window_size(390, 844)
    try:
        for prefix, (path, headline) in PAGES.items():
            browser.open(path)
            browser.settled(prefix, headline)
            assert _sideways(browser) <= 0, f"{prefix} scrolls sideways at 390 px"
            browser.screenshot(f"11-phone-{prefix}")
        browser.open("/dashboards/channels")
        browser.settled("channels", "channels-kpi-gmv-value")
        width = browser.driver.execute_script("return document.documentElement.clientWidth")
        for element_id in ("lang-switch", "logout-link", "nav-toggle"):
            box = browser.element(element_id).rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (element_id, box)
        assert not browser.element("nav-overview").is_displayed()
        browser.element("nav-toggle").click()
        browser.wait(lambda d: browser.element("nav-overview").is_displayed(), "the menu")
        assert browser.element("nav-toggle").get_attribute("aria-expanded") == "true"
        assert browser.element("nav-channels").rect["height"] < 60  # a label on one line
        browser.element("nav-toggle").click()
        browser.wait(lambda d: not browser.element("nav-overview").is_displayed(), "menu shut")
        assert not browser.element("channels-filter-controls").is_displayed()
        browser.element("channels-filter-toggle").click()
        browser.wait(
            lambda d: browser.element("channels-filter-controls").is_displayed(), "the filters"
        )
        pinned = browser.driver.find_elements(
            By.CSS_SELECTOR, "#channels-grid-institutions .ag-pinned-left-header [col-id='name']"
        )
        assert pinned, "the institutions grid's first column is not pinned"
        browser.screenshot("11-phone-channels-menus")
    finally:
        browser.driver.set_window_size(WIDTH, HEIGHT)


def _log_in(browser: Browser, password: str, username: str = USERNAME) -> None:
    browser.element("login-username").send_keys(username)
    browser.element("login-password").send_keys(password, Keys.ENTER)


GRID_ROWS = """
    return Array.from(document.querySelectorAll('[id^="clearing-grid-"].ag-theme-alpine'))
        .map(el => [el.id, el.querySelectorAll('.ag-center-cols-container .ag-row').length]);
"""


def _finance_clears(browser: Browser, world: World) -> None:
    """Finance opens 清分结算 from the navigation: the latest cleared day (open), its
    figures as the API's day report has them, every grid filled; then a closed day with
    its reason, and the same in English."""
    # The ended session's refused callback (above) is expected; what follows must be clean.
    browser.collect_console()
    browser.console.clear()
    browser.click(browser.element("logout-link"))
    browser.wait(lambda d: browser.path() == "/dashboards/login", "the login page")
    _log_in(browser, world.finance_password, FINANCE_USERNAME)
    browser.element("overview-kpi-gmv-value")
    nav = browser.element("nav-clearing")
    browser.wait(lambda d: nav.is_displayed(), "the Clearing link for finance")
    browser.click(nav)
    browser.wait(lambda d: browser.path() == "/dashboards/clearing", "the clearing page")
    with read_session(world.runtime.session_factory) as session:
        report = clearing.day_report(session, world.cleared[-1])
        closed = clearing.day_report(session, world.cleared[1], "district")
    browser.wait_for_text("clearing-kpi-gross-value", yuan(report.totals["gross_fen"], "zh").number)
    assert browser.text_of("clearing-kpi-sales-value") == f"{report.totals['sales']:,}"
    assert browser.text_of("clearing-status") == t("clearing.status.open", "zh")

    def grids_filled(expected: clearing.DayReport) -> Callable[[Any], bool]:
        def filled(_: Any) -> bool:
            rows = dict(browser.driver.execute_script(GRID_ROWS))
            return (
                len(rows) == 5
                and (rows["clearing-grid-lines"] > 0) == bool(expected.tables["lines"])
                and rows["clearing-grid-liability"] > 0
            )

        return filled

    def full_page_shot(name: str, expected: clearing.DayReport) -> None:
        # A whole-page capture resizes the viewport and AG Grid lays out again: let it.
        height = browser.driver.execute_script("return document.documentElement.scrollHeight")
        browser.driver.set_window_size(WIDTH, height)
        browser.wait(grids_filled(expected), "the clearing grids to lay out again")
        browser.wait(lambda d: d.execute_script(PENDING_CALLBACKS) == 0, "callbacks to finish")
        browser.screenshot(name)
        browser.driver.set_window_size(WIDTH, HEIGHT)

    browser.wait(grids_filled(report), "the clearing grids to fill")
    browser.wait(lambda d: d.execute_script(PENDING_CALLBACKS) == 0, "callbacks to finish")
    full_page_shot("09-clearing", report)

    browser.open(f"/dashboards/clearing?day={world.cleared[1]}&level=district&lang=en")
    browser.wait_for_text("clearing-status", t("clearing.status.closed", "en"))
    browser.wait_for_text("clearing-kpi-net-value", yuan(closed.totals["net_fen"], "en").number)
    assert browser.text_of("clearing-close-reason") == CLOSE_REASON
    assert browser.text_of("nav-clearing") == t("nav.clearing", "en")
    browser.wait(grids_filled(closed), "the clearing grids to fill")
    browser.wait(lambda d: d.execute_script(PENDING_CALLBACKS) == 0, "callbacks to finish")
    mismatches = browser.element("clearing-grid-mismatches").text
    assert "TILL-ONLY" in mismatches
    full_page_shot("10-en-clearing-closed", closed)
    errors = browser.console_errors()
    assert not errors, "\n".join(errors)


def _session_ends(browser: Browser, world: World) -> None:
    """Logging out shuts the pages; a session ended on the server sends the open page to
    the login page at its next callback, and back to it after logging in again."""
    browser.click(browser.element("logout-link"))
    browser.wait(lambda d: browser.path() == "/dashboards/login", "the login page")
    browser.element("login-username")
    browser.open("/dashboards/members")
    browser.element("login-username")
    assert browser.path() == "/dashboards/login"
    assert browser.query() == {"next": "/dashboards/members"}

    _log_in(browser, world.password)
    browser.settled("members", PAGES["members"][1])
    assert browser.path() == "/dashboards/members"
    password = world.reset_password()
    browser.click(browser.element("nav-points"))
    browser.wait(lambda d: browser.path() == "/dashboards/login", "the login page")
    assert browser.query() == {"next": "/dashboards/points"}
    browser.screenshot("08-session-ended")
    _log_in(browser, password)
    browser.settled("points", PAGES["points"][1])
    assert browser.path() == "/dashboards/points"


def _calendar_text(browser: Browser, prefix: str) -> str:
    """The date picker's calendar as it opens from the start field, then closed again."""
    browser.element(f"{prefix}-filter-dates").click()
    calendar = browser.first(By.CSS_SELECTOR, ".dash-datepicker-content")
    browser.wait(lambda d: calendar.text.strip(), "the calendar to open")
    text = str(calendar.text)
    browser.element(f"{prefix}-filter-dates").send_keys(Keys.ESCAPE)
    browser.wait(
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".dash-datepicker-content"),
        "the calendar to close",
    )
    return text


def _sees_content(browser: Browser, prefix: str) -> None:
    """Every chart is drawn with data or says it has none; every table (a grid) is filled."""
    charts = browser.charts(prefix)
    assert charts, f"no charts on {prefix}"
    blank = [chart_id for chart_id, _, traces, notes in charts if not (traces or notes)]
    assert not blank, f"charts drawn without data or an empty-state message: {blank}"
    grids = browser.driver.find_elements(By.CSS_SELECTOR, f'[id^="{prefix}-grid-"].ag-theme-alpine')
    assert grids, f"no tables on {prefix}"
    for grid in grids:
        grid_id = grid.get_attribute("id")
        browser.wait(
            lambda d, grid_id=grid_id: (
                _grid_rows(browser, grid_id)
                or "ag-overlay-no-rows" in d.find_element(By.ID, grid_id).get_attribute("innerHTML")
            ),
            f"grid {grid_id} to fill",
        )


# Each header cell of the campaign grid: its text, its left and right edge; the grid's
# box, how wide its columns are against what it shows, and the window's width.
TABLE_EDGES = """
const grid = document.getElementById('campaigns-grid-campaigns');
const box = grid.getBoundingClientRect();
const columns = grid.querySelector('.ag-center-cols-viewport');
return {
  wrap: [box.left, box.right, columns.scrollWidth, columns.clientWidth, window.innerWidth],
  cells: [...grid.querySelectorAll('.ag-header-cell')].map(cell => {
    const r = cell.getBoundingClientRect();
    return [cell.innerText, r.left, r.right];
  }),
};
"""


def _campaign_table_fits(browser: Browser) -> None:
    """At 1440 px the campaign grid needs no sideways scrolling: the lift and interval
    columns are whole inside the card, every money column in 元."""
    browser.wait(lambda d: _grid_rows(browser, "campaigns-grid-campaigns"), "campaign rows")
    edges = browser.driver.execute_script(TABLE_EDGES)
    left, right, scroll_width, client_width, window_width = edges["wrap"]
    assert window_width <= WIDTH, window_width
    assert scroll_width <= client_width, f"the grid scrolls sideways: {edges}"
    headers = {text.replace("\n", " "): (lo, hi) for text, lo, hi in edges["cells"]}
    for key in ("metric.lift", "metric.lift_low", "metric.lift_high"):
        found = [h for h in headers if h.startswith(t(key, "zh"))]
        assert found, (key, list(headers))
        cell_left, cell_right = headers[found[0]]
        assert left - 0.5 <= cell_left and cell_right <= right + 0.5, (key, edges)
        assert t("unit.yuan", "zh") in found[0], found
    assert not any(t("unit.wan_yuan", "zh") in h for h in headers), list(headers)


def _campaign_detail(browser: Browser) -> None:
    """A campaign's name in the table opens its detail view, headed by the incremental
    GMV against the holdout with its interval and a sentence; the before/after
    comparison follows, smaller and labelled not causal; the back link returns."""
    browser.click(browser.first(By.CSS_SELECTOR, "#campaigns-grid-campaigns a"))
    browser.wait(lambda d: "campaign" in browser.query(), "the campaign detail URL")
    browser.settled("campaigns", "campaigns-kpi-treated-value")
    _sees_content(browser, "campaigns")
    browser.wait(lambda d: browser.text_of("campaigns-headline-sentence"), "the verdict")
    incremental = browser.element("campaigns-kpi-incremental")
    assert incremental.is_displayed() and "95% CI" in incremental.text, incremental.text
    assert browser.text_of("campaigns-kpi-cost-yuan-value")
    assert browser.text_of("campaigns-kpi-roi-value")
    secondary = browser.element("campaigns-before-after")
    assert t("metric.before_after", "zh") in secondary.text, secondary.text
    number = incremental.find_element(By.CSS_SELECTOR, ".kpi-number")
    small = float(secondary.value_of_css_property("font-size").removesuffix("px"))
    big = float(number.value_of_css_property("font-size").removesuffix("px"))
    assert small < big / 2, (small, big)
    # The headline comes first on the page.
    assert incremental.location["y"] < secondary.location["y"]
    browser.screenshot("04-campaigns-detail")
    browser.click(browser.element("campaigns-page").find_element(By.CSS_SELECTOR, ".back-link a"))
    browser.wait(lambda d: "campaign" not in browser.query(), "the campaign list again")
    browser.settled("campaigns", "campaigns-kpi-points-cost-value")
    # A page drawn again whole on a filter change: the shell hands the new address to
    # the router, and Back returns.
    before = browser.text_of("campaigns-period")
    browser.click(browser.first(By.CSS_SELECTOR, "#campaigns-filter-preset label:first-child"))
    browser.wait(lambda d: browser.text_of("campaigns-period") != before, "a week's campaigns")
    browser.settled("campaigns", "campaigns-kpi-points-cost-value")
    browser.driver.back()
    browser.wait(lambda d: browser.text_of("campaigns-period") == before, "the period again")
    browser.settled("campaigns", "campaigns-kpi-points-cost-value")


def _grid_rows(browser: Browser, grid_id: str) -> list[WebElement]:
    return browser.driver.find_elements(
        By.CSS_SELECTOR, f"#{grid_id} .ag-center-cols-container [role=row]"
    )


def _member_insights(browser: Browser) -> None:
    """The insights cards draw their charts, the at-risk grid fills (masked for a
    marketer), and the segment comparison sorts its numbers as numbers in the browser."""
    for chart in ("insights-chart-segments", "insights-chart-clv"):
        traces = browser.driver.execute_script(
            "const g = document.querySelector(arguments[0]);"
            " return g && g.data ? g.data.length : 0",
            f"#{chart} .js-plotly-plot",
        )
        assert traces, f"{chart} has no traces"
    # Shown, not only in the DOM (a grid can hold rows it keeps hidden), and masked for a
    # marketer.
    browser.wait(
        lambda d: "****" in browser.element("insights-grid-atrisk").text, "at-risk rows shown"
    )
    header = browser.element("insights-grid-segments").find_element(
        By.CSS_SELECTOR, '.ag-header-cell[col-id="members"] .ag-header-cell-label'
    )
    browser.click(header)
    browser.click(header)

    def counts() -> list[int]:
        cells = browser.element("insights-grid-segments").find_elements(
            By.CSS_SELECTOR, '.ag-center-cols-container [col-id="members"]'
        )
        ordered = sorted(cells, key=lambda cell: cell.location["y"])
        return [int(cell.text.replace(",", "")) for cell in ordered if cell.text]

    browser.wait(
        lambda d: len(counts()) > 1 and counts() == sorted(counts(), reverse=True),
        "segments by size",
    )
    browser.screenshot("04-insights-sorted")


def _member_list(browser: Browser, world: World) -> None:
    """The member list pages through every member, 50 at a time, sorted on the server."""
    members = int(
        world.reader.query("SELECT count(*) AS n FROM dim_member WHERE status <> 'merged'", [])[
            "n"
        ].iloc[0]
    )
    browser.wait(lambda d: len(_grid_rows(browser, "members-grid-list")) > 0, "member list rows")
    # The grid draws only the rows in view; its pager counts what the server said.
    summary = browser.element("members-grid-list").find_element(
        By.CSS_SELECTOR, ".ag-paging-row-summary-panel"
    )
    browser.wait(
        lambda d: summary.text.split()[-1] == str(members), "the member count in the pager"
    )
    # Sorting by the member number, descending, asks the server for the other end.
    header = browser.element("members-grid-list").find_element(
        By.CSS_SELECTOR, '.ag-header-cell[col-id="member_no"] .ag-header-cell-label'
    )
    first = _grid_rows(browser, "members-grid-list")[0].text
    browser.click(header)
    browser.click(header)
    browser.wait(
        lambda d: (
            _grid_rows(browser, "members-grid-list")
            and _grid_rows(browser, "members-grid-list")[0].text != first
        ),
        "the list sorted the other way",
    )
    browser.screenshot("04-members-list")
