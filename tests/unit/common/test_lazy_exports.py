"""Facades load their heavy modules on first use, so a CLI verb starts in a fraction of
the time (`memberhub --help` took 7 s when every facade imported pandas, SciPy and Flask)."""

import importlib
import subprocess
import sys

import pytest

import crm.insights
import warehouse


def test_a_name_is_loaded_from_its_home_on_first_use() -> None:
    from crm.insights.rfm import rfm_scores
    from warehouse.reader import WarehouseReader

    assert crm.insights.rfm_scores is rfm_scores
    assert warehouse.WarehouseReader is WarehouseReader
    assert crm.insights.bgnbd is sys.modules["crm.insights.bgnbd"]


def test_a_function_named_like_its_module_stays_the_function() -> None:
    warehouse.daily_purchases  # noqa: B018  (loads the module warehouse.member_features)
    importlib.import_module("warehouse.sync")  # which imports it again, indirectly

    assert callable(warehouse.member_features)
    assert warehouse.member_features.__name__ == "member_features"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        crm.insights.nonsense  # noqa: B018


def test_the_cli_starts_without_the_analytics_and_web_stacks() -> None:
    heavy = ("pandas", "scipy", "sklearn", "flask", "dash")
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, memberhub.cli; print(' '.join(m for m in {heavy!r} if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert loaded == []
