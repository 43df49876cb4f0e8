"""Labels in two languages and numbers in 元/万元 and 万, exact from integer fen."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dashboards import i18n


def test_money_is_yuan_below_ten_thousand_and_wan_yuan_from_there() -> None:
    assert str(i18n.money(123456, "zh")) == "1,234.56 元"
    assert str(i18n.money(999_999, "zh")) == "9,999.99 元"
    assert str(i18n.money(1_000_000, "zh")) == "1.00 万元"
    assert str(i18n.money(123_456_789, "zh")) == "123.46 万元"
    # English counts in thousands and millions, CNY written once.
    assert str(i18n.money(123_456_789, "en")) == "1.23 M CNY"
    assert str(i18n.money(15_477_000, "en")) == "154.77 K CNY"
    assert str(i18n.money(999_999, "en")) == "9,999.99 CNY"
    assert str(i18n.money(5, "en")) == "0.05 CNY"
    assert str(i18n.money(-250, "zh")) == "-2.50 元"


def test_money_rounds_half_up_from_the_exact_value() -> None:
    # 1,234,5 fen = 0.12345 万元: a float would round 0.125 down on some values.
    assert i18n.money(1_125_000, "zh").number == "1.13"
    assert i18n.money(1_124_999, "zh").number == "1.12"
    assert i18n.money_in(12_345, i18n.MoneyScale(1_000_000, "万元")) == "0.01"


@given(st.integers(min_value=0, max_value=10**14))
def test_yuan_text_is_the_fen_amount_exactly(fen: int) -> None:
    scale = i18n.MoneyScale(100, "元")
    assert i18n.money_in(fen, scale).replace(",", "") == f"{fen // 100}.{fen % 100:02d}"


def test_counts_use_wan_in_chinese_and_millions_in_english() -> None:
    assert str(i18n.count(99_999, "zh")) == "99,999"
    assert str(i18n.count(123_456, "zh", "unit.people")) == "12.35 万人"
    assert str(i18n.count(123_456, "en", "unit.people")) == "123,456 members"
    assert str(i18n.count(2_500_000, "en", "unit.points")) == "2.50 M points"


def test_change_against_the_previous_period() -> None:
    assert i18n.change(120, 100, "zh") == i18n.Change("+20.0%", "up")
    assert i18n.change(90, 100, "en") == i18n.Change("−10.0%", "down")
    assert i18n.change(5, 0, "zh") == i18n.Change("新增", "up")
    assert i18n.change(5, 0, "en").text == "new"
    assert i18n.change(0, 0, "zh").direction == "flat"


def test_percent_and_hours() -> None:
    assert i18n.percent(0.1234, "zh") == "12.3%"
    assert i18n.percent(None, "en") == "—"
    assert i18n.percent(float("nan"), "en") == "—"
    assert str(i18n.hours(26.04, "en")) == "26.0 hours"
    assert str(i18n.hours(None, "zh")) == "—"


def test_every_label_exists_in_both_languages() -> None:
    for key, (zh, en) in i18n.TEXT.items():
        assert zh and en, key
    assert i18n.t("nav.points", "zh") == "积分经济"
    assert i18n.t("nav.points", "en") == "Points economy"
    assert i18n.t("no.such.key", "en") == "no.such.key"


def test_codes_and_names_fall_back_instead_of_failing() -> None:
    assert i18n.label("tier", "gold", "zh") == "金卡"
    assert i18n.label("tier", "platinum", "en") == "platinum"
    assert i18n.label("tier", None, "en") == "unknown"
    assert i18n.name_of("网上商城", "Online mall", "en") == "Online mall"
    assert i18n.name_of("网上商城", None, "en") == "网上商城"
    assert i18n.name_of(None, float("nan"), "zh", "web") == "web"
    assert i18n.parse_lang("en") == "en"
    assert i18n.parse_lang("fr") == "zh"
    assert i18n.parse_lang(None) == "zh"
