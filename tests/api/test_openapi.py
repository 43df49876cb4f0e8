"""The OpenAPI 3.1 document and the self-hosted /api/docs page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from storefront_api.http.routing import OPERATIONS

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
EXTERNAL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    return response.json


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_document_is_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["paths"]
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_every_api_route_of_the_app_is_documented(app, document):
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint.startswith("openapi."):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((_openapi_path(rule.rule), method.lower()))
    assert served
    assert served <= documented, served - documented
    for operation in OPERATIONS:
        assert (_openapi_path(operation.path), operation.method) in documented


def test_every_ref_resolves_and_bodies_use_component_schemas(document):
    schemas = document["components"]["schemas"]
    for ref in set(_refs(document)):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    bodies = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert method in HTTP_METHODS, (path, method)
            body = operation.get("requestBody")
            if body is None:
                continue
            bodies += 1
            schema = body["content"]["application/json"]["schema"]
            name = schema["$ref"].rsplit("/", 1)[1]
            assert schemas[name]["type"] == "object"
            assert schemas[name]["properties"]
    assert bodies >= 12
    accrual = schemas["AccrualIn"]
    assert set(accrual["required"]) >= {
        "external_id",
        "member",
        "institution_code",
        "occurred_at",
        "business_type",
        "lines",
        "total_fen",
    }
    assert accrual["additionalProperties"] is False


def test_operations_are_complete(document):
    ids = []
    for path, item in document["paths"].items():
        params = set(re.findall(r"{([^}]+)}", path))
        for operation in item.values():
            ids.append(operation["operationId"])
            assert operation["summary"]
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == params, (path, declared)
            assert all(p["required"] for p in operation.get("parameters", []) if p["in"] == "path")
            statuses = set(operation["responses"])
            assert any(s.startswith("2") for s in statuses), path
            for status, response in operation["responses"].items():
                assert response["description"]
                if int(status) >= 400:
                    assert response["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= statuses, path
            assert operation["description"].startswith("Who may call: ")
            assert "x-access-policy" in operation
            if "security" in operation:
                assert operation["security"] in ([{"bearer": []}], [{}, {"bearer": []}])
                assert {"401", "403"} <= statuses, path
    assert len(ids) == len(set(ids))


def test_each_operation_states_its_access_rule(document):
    cancel = document["paths"]["/api/v1/orders/{order_no}/cancel"]["post"]
    rule = cancel["x-access-policy"]
    assert rule["member"] == "own records"
    assert "creator" in rule["channel_scope"]
    assert rule["staff_roles"] == []
    assert rule["object"] == {"kind": "order", "named_by": "order_no"}
    verify = document["paths"]["/api/v1/pickups/verify"]["post"]["x-access-policy"]
    assert verify["channels"] == ["counter"] and verify["channel_scope"] == ["institution"]
    register = document["paths"]["/api/v1/members"]["post"]
    assert register["security"] == [{}, {"bearer": []}]
    assert "without credentials" in register["description"]


def test_protected_operations_say_so_and_open_ones_do_not(document):
    paths = document["paths"]
    assert "security" in paths["/api/v1/accruals"]["post"]
    assert "security" in paths["/api/v1/members/merge"]["post"]
    assert "security" in paths["/api/v1/campaigns"]["get"]
    assert "security" not in paths["/api/v1/rewards"]["get"]
    assert "security" not in paths["/api/v1/institutions"]["get"]
    assert "security" not in paths["/api/v1/auth/member-token"]["post"]


def test_query_parameters_are_documented(document):
    ledger = document["paths"]["/api/v1/members/{member_no}/ledger"]["get"]
    query = {p["name"]: p for p in ledger["parameters"] if p["in"] == "query"}
    assert set(query) == {"limit", "cursor"}
    assert query["limit"]["schema"]["maximum"] == 500
    # Exactly one identifier: one object parameter (form, exploded: ?phone=...) with
    # minProperties and maxProperties 1.
    lookup = document["paths"]["/api/v1/members/lookup"]["get"]
    (identifier,) = lookup["parameters"]
    assert identifier["style"] == "form" and identifier["explode"] is True
    schema = identifier["schema"]
    assert set(schema["properties"]) >= {"phone", "card_no"}
    assert schema["minProperties"] == schema["maxProperties"] == 1


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"])
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"])
        if tag == "img" and values.get("src"):
            self.urls.append(values["src"])


def test_docs_page_uses_only_assets_served_by_the_app(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert not EXTERNAL.findall(html)
    parser = _Assets()
    parser.feed(html)
    assert any(url.endswith(".js") for url in parser.urls)
    assert any(url.endswith(".css") for url in parser.urls)
    for url in parser.urls:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.data, url
        if url.endswith(".js"):
            assert "javascript" in asset.content_type
        if url.endswith(".css"):
            assert asset.content_type.startswith("text/css")
            css = asset.get_data(as_text=True)
            assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", css)
            assert "@import" not in css


def test_docs_init_loads_our_document_and_no_online_validator(client):
    init = client.get("/api/docs/init.js")
    assert init.status_code == 200
    script = init.get_data(as_text=True)
    assert '"/api/v1/openapi.json"' in script
    assert not EXTERNAL.findall(script)
    # Swagger UI's default validatorUrl loads a badge from validator.swagger.io.
    assert re.search(r"validatorUrl:\s*null", script)


def test_root_redirects_to_the_dashboards_and_missing_asset_is_404(client):
    root = client.get("/")
    assert root.status_code in (301, 302, 303, 307, 308)
    assert root.headers["Location"].endswith("/dashboards/")
    assert client.get("/api/docs/assets/js/nope.js").status_code == 404
    assert client.get("/api/docs/assets/../../../etc/passwd").status_code == 404
