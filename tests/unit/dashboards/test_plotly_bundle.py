"""The dashboards load a partial plotly.js (dashboards/plotly, built into assets/): it must
be the version plotly.py writes figures for, and hold every trace type a page draws."""

from __future__ import annotations

import json
import re
from pathlib import Path

from plotly.offline import get_plotlyjs_version

DASHBOARDS = Path(__file__).parents[3] / "dashboards"
BUNDLE = DASHBOARDS / "assets" / "plotly-dashboards.min.js"
SOURCE = DASHBOARDS / "plotly"
IN_CORE = {"scatter"}  # plotly.js core registers scatter itself


def test_the_bundle_is_the_plotly_js_that_plotly_py_expects() -> None:
    pinned = json.loads((SOURCE / "package.json").read_text())["devDependencies"]["plotly.js"]
    banner = BUNDLE.read_text(encoding="utf-8")[:200]
    assert pinned == get_plotlyjs_version()
    assert f"plotly.js {pinned} " in banner


def test_the_bundle_registers_every_trace_type_the_pages_draw() -> None:
    drawn = set()
    for module in DASHBOARDS.rglob("*.py"):
        drawn |= {name.lower() for name in re.findall(r"\bgo\.([A-Z][a-z]+)\(", module.read_text())}
    drawn.discard("figure")
    registered = set(
        re.findall(r"require\('plotly\.js/lib/(\w+)'\)", (SOURCE / "entry.js").read_text())
    )
    banner = BUNDLE.read_text(encoding="utf-8")[:200]
    assert drawn, "no trace types found: the scan is broken"
    assert drawn - IN_CORE <= registered
    assert all(kind in banner for kind in registered)
