"""Calls Dash callbacks through Flask's test client the way the browser's renderer does."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

CALLBACK_URL = "/dashboards/_dash-update-component"


class DashClient:
    """Finds a callback by one of its output ids and posts its inputs and state."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._dependencies: list[dict[str, Any]] | None = None

    @property
    def dependencies(self) -> list[dict[str, Any]]:
        if self._dependencies is None:
            response = self.client.get("/dashboards/_dash-dependencies")
            assert response.status_code == 200, response.status_code
            self._dependencies = response.json
        return self._dependencies

    def callback(self, output_id: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """The callback with this output; of several (duplicate outputs), the one that
        takes `inputs`."""
        found = [
            d
            for d in self.dependencies
            if any(o.split(".")[0].split("@")[0] == output_id for o in _outputs(d["output"]))
        ]
        assert found, f"no callback has an output {output_id!r}"
        if inputs and len(found) > 1:
            taking = [
                d
                for d in found
                if set(inputs) <= {f"{i['id']}.{i['property']}" for i in d["inputs"]}
            ]
            found = taking or found
        return found[0]

    def body(
        self,
        output_id: str,
        inputs: dict[str, Any],
        state: dict[str, Any] | None = None,
        changed: list[str] | None = None,
    ) -> dict[str, Any]:
        """`inputs` and `state` map "component.property" to a value."""
        callback = self.callback(output_id, inputs)
        outputs = [_split(o) for o in _outputs(callback["output"])]
        body_inputs = [_entry(i, inputs) for i in callback["inputs"]]
        body_state = [_entry(s, state or {}) for s in callback["state"]]
        return {
            "output": callback["output"],
            "outputs": outputs
            if len(outputs) > 1 or callback["output"].startswith("..")
            else outputs[0],
            "inputs": body_inputs,
            "state": body_state,
            "changedPropIds": changed or [f"{i['id']}.{i['property']}" for i in body_inputs],
        }

    def call(
        self,
        output_id: str,
        inputs: dict[str, Any],
        state: dict[str, Any] | None = None,
        changed: list[str] | None = None,
    ):
        return self.client.post(CALLBACK_URL, json=self.body(output_id, inputs, state, changed))

    def response(
        self,
        output_id: str,
        inputs: dict[str, Any],
        state: dict[str, Any] | None = None,
        changed: list[str] | None = None,
    ) -> dict[str, Any]:
        """The `response` part of a successful callback answer: {component: {prop: value}}."""
        answer = self.call(output_id, inputs, state, changed)
        assert answer.status_code == 200, (answer.status_code, answer.get_data(as_text=True)[:500])
        return answer.json["response"]


def _outputs(output: str) -> list[str]:
    if output.startswith(".."):
        return [o for o in output.strip(".").split("...") if o]
    return [output]


def _split(output: str) -> dict[str, str]:
    component, prop = output.split("@")[0].rsplit(".", 1)
    return {"id": component, "property": prop}


def _entry(dependency: dict[str, str], values: dict[str, Any]) -> dict[str, Any]:
    key = f"{dependency['id']}.{dependency['property']}"
    entry: dict[str, Any] = {"id": dependency["id"], "property": dependency["property"]}
    if key in values:
        entry["value"] = values[key]
    return entry
