"""The newspapers and magazines the Shanghai post offices take subscriptions for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PressTitleData:
    code: str
    name: str
    name_en: str
    publisher: str
    frequency: str  # daily, weekly, semimonthly, monthly, bimonthly
    monthly_price_fen: int


# Codes are pinyin initials, or the whole word where initials would read as an
# institution code; prices are per month as the post office sells them (报刊订阅).
PRESS_TITLES: tuple[PressTitleData, ...] = (
    PressTitleData("JFRB", "解放日报", "Jiefang Daily", "上海报业集团", "daily", 4200),
    PressTitleData("WHB", "文汇报", "Wenhui Daily", "上海报业集团", "daily", 4200),
    PressTitleData("XMWB", "新民晚报", "Xinmin Evening News", "上海报业集团", "daily", 3300),
    PressTitleData("RMRB", "人民日报", "People's Daily", "人民日报社", "daily", 4000),
    PressTitleData("CKXX", "参考消息", "Reference News", "新华通讯社", "daily", 3000),
    PressTitleData("HQSB", "环球时报", "Global Times", "人民日报社", "daily", 3300),
    PressTitleData("SHZQB", "上海证券报", "Shanghai Securities News", "新华通讯社", "daily", 6000),
    PressTitleData("QNB", "青年报", "Youth Daily", "共青团上海市委员会", "daily", 2000),
    PressTitleData("LDB", "劳动报", "Labour Daily", "上海市总工会", "daily", 2000),
    PressTitleData("GSH", "故事会", "Story Digest", "上海文艺出版社", "semimonthly", 1200),
    PressTitleData("DZ", "读者", "Duzhe (The Reader)", "读者出版集团", "semimonthly", 1600),
    PressTitleData("SHOUHUO", "收获", "Harvest", "上海市作家协会", "bimonthly", 1250),
)
