"""The default catalogue loaded by `init-db`: everyday goods, festival gift boxes, philately."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ProductSeed:
    sku: str
    name: str
    name_en: str
    category: str
    price_fen: int
    business_type: str
    brand: str | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    festival: str | None = None
    member_prices: dict[str, int] | None = None


# Festival themes, in the order they come round in a year.
FESTIVALS = {
    "spring": ("新春有礼", "Spring Festival gifts"),
    "dragon_boat": ("情邮独粽", "Dragon Boat zongzi"),
    "summer": ("夏日邮爽", "Summer specials"),
    "mid_autumn": ("浦江月", "Mid-Autumn mooncakes"),
    "hairy_crab": ("香蟹驿舍", "Hairy-crab season"),
}


def _goods(
    sku: str,
    name: str,
    name_en: str,
    category: str,
    price_fen: int,
    brand: str | None = None,
    festival: str | None = None,
    stock: int | None = None,
) -> ProductSeed:
    return ProductSeed(
        sku, name, name_en, category, price_fen, "goods", brand, stock, None, festival
    )


def _stamp(
    sku: str, name: str, name_en: str, price_fen: int, stock: int, limit: int
) -> ProductSeed:
    return ProductSeed(
        sku, name, name_en, "stamps", price_fen, "philately", "中国邮政", stock, limit
    )


def _for_members(seed: ProductSeed, **prices: int) -> ProductSeed:
    """The product with member prices (the 自邮一族 club's benefit), by tier code."""
    return replace(seed, member_prices=prices)


PRODUCTS: tuple[ProductSeed, ...] = (
    # 新春有礼: Spring Festival
    _goods(
        "SF-PJL-GIFT-01",
        "浦江礼·新春年货礼盒",
        "Pujiang Li New Year hamper",
        "food",
        29800,
        "浦江礼",
        "spring",
        3000,
    ),
    _goods(
        "SF-PJL-NIANGAO",
        "浦江礼·宁波水磨年糕礼包",
        "Pujiang Li Ningbo rice cakes",
        "food",
        6800,
        "浦江礼",
        "spring",
    ),
    _goods(
        "SF-LYT-NUTS",
        "绿油田园·坚果大礼包",
        "Lüyou Farm mixed nuts gift",
        "farm",
        15800,
        "绿油田园",
        "spring",
    ),
    _goods(
        "SF-COUPLET-SET",
        "新春福字春联套装",
        "Spring couplets and fu set",
        "home",
        3900,
        "浦江礼",
        "spring",
    ),
    # 情邮独粽: Dragon Boat
    _goods(
        "DB-PJL-ZONGZI-01",
        "浦江礼·嘉兴肉粽礼盒",
        "Pujiang Li Jiaxing zongzi box",
        "food",
        12800,
        "浦江礼",
        "dragon_boat",
        5000,
    ),
    _goods(
        "DB-PJL-ZONGZI-02",
        "浦江礼·蛋黄鲜肉粽 10只",
        "Pujiang Li egg-yolk zongzi x10",
        "food",
        8800,
        "浦江礼",
        "dragon_boat",
    ),
    _goods(
        "DB-LYT-DUCKEGG",
        "绿油田园·高邮咸鸭蛋",
        "Lüyou Farm Gaoyou salted duck eggs",
        "farm",
        5900,
        "绿油田园",
        "dragon_boat",
    ),
    # 夏日邮爽: summer
    _for_members(
        _goods("SU-FAN-01", "落地循环扇", "Air circulator fan", "digital", 39900, "美的", "summer"),
        gold=35900,
        diamond=33900,
    ),
    _goods(
        "SU-SUNSCREEN", "清爽防晒乳 SPF50", "Sunscreen SPF50", "beauty", 12900, "百雀羚", "summer"
    ),
    _goods(
        "SU-LYT-WATERMELON",
        "绿油田园·南汇8424西瓜",
        "Lüyou Farm Nanhui 8424 watermelon",
        "farm",
        6800,
        "绿油田园",
        "summer",
    ),
    _for_members(
        _goods(
            "SU-TEA-GIFT", "冷泡茶礼盒", "Cold-brew tea gift box", "food", 9900, "浦江礼", "summer"
        ),
        silver=8900,
    ),
    # 浦江月: Mid-Autumn
    _goods(
        "MA-PJL-MOONCAKE-01",
        "浦江礼·海派月饼礼盒",
        "Pujiang Li Shanghai-style mooncakes",
        "food",
        25800,
        "浦江礼",
        "mid_autumn",
        8000,
    ),
    _goods(
        "MA-PJL-MOONCAKE-02",
        "浦江礼·鲜肉月饼 6只",
        "Pujiang Li fresh-meat mooncakes x6",
        "food",
        7800,
        "浦江礼",
        "mid_autumn",
    ),
    _goods(
        "MA-XHL-MOONCAKE",
        "杏花楼·月饼礼盒",
        "Xinghualou mooncake gift box",
        "food",
        32800,
        "杏花楼",
        "mid_autumn",
    ),
    # 香蟹驿舍: hairy crab
    _goods(
        "HC-CRAB-VOUCHER-4",
        "阳澄湖大闸蟹 4对 提货券",
        "Yangcheng Lake hairy crabs, 4 pairs (voucher)",
        "food",
        59800,
        "浦江礼",
        "hairy_crab",
        2000,
    ),
    _goods(
        "HC-CRAB-VOUCHER-8",
        "阳澄湖大闸蟹 8只 礼盒",
        "Yangcheng Lake hairy crabs, 8 (gift box)",
        "food",
        88800,
        "浦江礼",
        "hairy_crab",
        1000,
    ),
    _goods(
        "HC-LYT-RICE",
        "绿油田园·崇明大米 5kg",
        "Lüyou Farm Chongming rice 5 kg",
        "farm",
        6900,
        "绿油田园",
        "hairy_crab",
    ),
    # Everyday catalogue
    _goods("HM-TOWEL-SET", "纯棉毛巾三件套", "Cotton towel set of 3", "home", 5900, "洁丽雅"),
    _goods("HM-THERMOS", "不锈钢保温杯", "Stainless vacuum flask", "home", 12900, "膳魔师"),
    _goods("BB-DIAPERS-L", "婴儿纸尿裤 L码", "Baby diapers size L", "baby", 13900, "花王"),
    _goods("BB-FORMULA-3", "婴幼儿配方奶粉 3段", "Infant formula stage 3", "baby", 32800, "飞鹤"),
    _goods("DG-EARBUDS", "蓝牙耳机", "Bluetooth earbuds", "digital", 19900, "小米"),
    _goods("DG-POWERBANK", "移动电源 10000mAh", "Power bank 10,000 mAh", "digital", 9900, "小米"),
    _goods("DG-RICECOOKER", "智能电饭煲", "Smart rice cooker", "digital", 39900, "苏泊尔"),
    _goods("BT-CREAM", "护手霜礼盒", "Hand cream gift set", "beauty", 8900, "百雀羚"),
    _goods("BT-SERUM", "精华液 30ml", "Face serum 30 ml", "beauty", 26800, "佰草集"),
    _goods("SP-YOGA-MAT", "瑜伽垫", "Yoga mat", "sports", 12900, "李宁"),
    _goods("SP-RUNNING-SHOES", "跑步鞋", "Running shoes", "sports", 49900, "回力"),
    _goods("JW-GOLD-ZODIAC", "足金生肖转运珠", "Gold zodiac charm", "jewelry", 128000, "老凤祥"),
    _goods("JW-SILVER-BANGLE", "足银手镯", "Silver bangle", "jewelry", 39900, "老庙"),
    _goods(
        "FD-TEA-LONGJING", "西湖龙井 250g", "West Lake Longjing tea 250 g", "food", 29800, "浦江礼"
    ),
    _goods("FD-HONEY", "洋槐蜂蜜 500g", "Acacia honey 500 g", "food", 4900, "绿油田园"),
    _goods(
        "FM-LYT-EGGS",
        "绿油田园·散养土鸡蛋 30枚",
        "Lüyou Farm free-range eggs x30",
        "farm",
        5900,
        "绿油田园",
    ),
    _goods(
        "FM-LYT-VEG-BOX",
        "绿油田园·时令蔬菜箱",
        "Lüyou Farm seasonal vegetable box",
        "farm",
        8800,
        "绿油田园",
    ),
    # Philately: limited issues with a per-member limit
    _stamp(
        "PH-2027-ZODIAC-SHEET",
        "《丁未年》生肖邮票 大版张",
        "Year of the Goat 2027 full sheet",
        9600,
        3000,
        2,
    ),
    _stamp(
        "PH-2027-ZODIAC-BOOKLET",
        "《丁未年》生肖邮票 小本票",
        "Year of the Goat 2027 booklet",
        4800,
        8000,
        5,
    ),
    _stamp("PH-2026-ALBUM", "2026年邮票年册", "2026 stamp yearbook", 46800, 1500, 1),
    _stamp(
        "PH-SHANGHAI-MINISHEET",
        "《上海浦东开发开放》小型张",
        "Pudong development souvenir sheet",
        1200,
        20000,
        10,
    ),
    _stamp("PH-FDC-MOONCAKE", "中秋节首日封", "Mid-Autumn first-day cover", 800, 5000, 5),
)
