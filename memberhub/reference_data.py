"""Static reference data for China Post Shanghai loyalty, seeded by ``memberhub init-db``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.codes import COMPANY_CODE


@dataclass(frozen=True)
class InstitutionSeed:
    code: str  # company "SH"; district "SH-HP"; outlet "SH-HP-0012"; kiosk / store same pattern
    name: str  # Chinese name
    name_en: str
    kind: str  # "company" | "district" | "outlet" | "kiosk" | "store"
    parent_code: str | None
    address: str = ""  # Chinese street address for outlets/kiosks/stores


@dataclass(frozen=True)
class ChannelSeed:
    code: str
    name: str
    name_en: str
    online: bool  # web, app, hotline, partner online; counter, retail, distribution offline
    needs_institution: bool  # counter and retail: API keys are bound to one outlet/store


@dataclass(frozen=True)
class BusinessTypeSeed:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class CategorySeed:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class EarningRuleSeed:
    code: str
    business_type: str
    channel: str | None  # None = any channel
    category: str | None  # None = any category
    points: int  # `points` points per `per_fen` fen of line amount (floored)
    per_fen: int
    fixed_points: int  # points per accrual regardless of amount (mailing: 10 per item)
    pending_days: int  # 0 = available at once; online goods orders: 7-day return window
    description: str  # Chinese, short
    description_en: str


@dataclass(frozen=True)
class TierSeed:
    code: str
    name: str
    name_en: str
    rank: int
    min_points_12m: int  # qualifying points of the trailing 365 days that earn the tier
    multiplier_bp: int  # basis points: 10000 = 1.0x
    min_spend_fen_12m: int | None = None  # or this much spent in them (None: points only)
    birthday_bonus_points: int = 0  # credited once a year in the member's birthday week
    free_delivery: bool = False  # delivered orders carry no delivery fee


@dataclass(frozen=True)
class ClubSeed:
    campaign_bonus_qualifies: bool  # do campaign bonus points count towards a tier?
    grace_days: int  # how long a member who fell short keeps the tier


@dataclass(frozen=True)
class RewardSeed:
    code: str
    name: str
    name_en: str
    kind: str  # "goods" | "voucher" | "bill_credit" | "partner_miles"
    points_cost: int
    cash_fen: int  # optional cash part, 0 if none
    stock: int | None  # None = unlimited
    # Vouchers and bill credits: worth, least spend, days valid, business type (None: any).
    value_fen: int | None = None
    min_spend_fen: int = 0
    valid_days: int | None = None
    applies_to: str | None = None
    biller_kind: str | None = None  # a bill credit: the kind of bill it pays towards


# ---------------------------------------------------------------------------
# Institutions
# ---------------------------------------------------------------------------

COMPANY = InstitutionSeed(
    code=COMPANY_CODE,
    name="中国邮政集团有限公司上海市分公司",
    name_en="China Post Group Co., Ltd. Shanghai Branch",
    kind="company",
    parent_code=None,
)

# Per-district source lists of real streets, towns and landmarks.
#
# One place per line: ``中文名|English|地址道路``.
#   * English: for names ending in a road suffix (路/东路/西路/南路/北路/中路/公路/大道/街)
#     give only the pinyin stem ("南京东路|Nanjing" -> "East Nanjing Road"); a leading "="
#     means the text is used verbatim.  Other places (towns, areas) are used verbatim.
#   * 地址道路: the road used for the generated street address.  Optional when the place
#     itself is a road.  A value ending in 号 is a complete fixed address.
#
# The first block of a district becomes 邮政支局 (branch post offices); the second block
# becomes 邮政所 / 邮政营业部 alternately.
_DISTRICT_SOURCES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "HP",
        "黄浦区",
        "Huangpu",
        """
        南京东路|Nanjing
        外滩|The Bund|中山东一路
        淮海中路|Huaihai
        老西门|Laoximen|中华路
        打浦桥|Dapuqiao|徐家汇路
        豫园|Yuyuan Garden|福佑路
        人民广场|People's Square|西藏中路
        新天地|Xintiandi|马当路
        董家渡|Dongjiadu|董家渡路
        小东门|Xiaodongmen|东门路
        五里桥|Wuliqiao|鲁班路
        半淞园|Bansongyuan|半淞园路
        瑞金二路|=Ruijin No.2 Road
        """,
        """
        四川中路|Sichuan
        河南中路|Henan
        福州路|Fuzhou
        广东路|=Guangdong Road
        九江路|Jiujiang
        延安东路|Yan'an
        金陵东路|Jinling
        西藏南路|Xizang
        复兴中路|Fuxing
        陕西南路|Shaanxi
        重庆南路|Chongqing
        建国中路|Jianguo
        思南路|Sinan
        中华路|Zhonghua
        蓬莱路|Penglai
        方浜中路|Fangbang
        陆家浜路|Lujiabang
        制造局路|Zhizaoju
        丽园路|Liyuan
        南车站路|Nanchezhan
        斜土东路|Xietu
        局门路|Jumen
        汉口路|Hankou
        浙江中路|Zhejiang
        宁海东路|Ninghai
        """,
    ),
    (
        "PD",
        "浦东新区",
        "Pudong",
        """
        陆家嘴|Lujiazui|陆家嘴环路
        张江|Zhangjiang|祖冲之路
        金桥|Jinqiao|金桥路
        川沙|Chuansha|川沙路
        惠南|Huinan|拱极路
        花木|Huamu|梅花路
        塘桥|Tangqiao|塘桥新路
        三林|Sanlin|三林路
        洋泾|Yangjing|羽山路
        潍坊|Weifang|潍坊路
        周家渡|Zhoujiadu|云台路
        上钢新村|Shanggang Xincun|上南路
        东明|Dongming|东明路
        北蔡|Beicai|沪南路
        高桥|Gaoqiao|季景路
        高行|Gaohang|东靖路
        高东|Gaodong|杨高北路
        曹路|Caolu|金海路
        唐镇|Tangzhen|唐陆公路
        合庆|Heqing|东川公路
        康桥|Kangqiao|秀沿路
        周浦|Zhoupu|年家浜路
        航头|Hangtou|航头路
        新场|Xinchang|沪南公路
        祝桥|Zhuqiao|川南奉公路
        宣桥|Xuanqiao|南六公路
        老港|Laogang|东大公路
        大团|Datuan|沪南公路
        泥城|Nicheng|南芦公路
        书院|Shuyuan|丽正路
        万祥|Wanxiang|沪南公路
        芦潮港|Luchaogang|申港大道
        临港|Lingang|环湖西二路
        南码头|Nanmatou|南码头路
        金杨|Jinyang|金杨路
        沪东|Hudong|东陆路
        外高桥|Waigaoqiao|基隆路
        御桥|Yuqiao|御桥路
        世博|Expo|耀华路
        前滩|Qiantan|东育路
        浦东机场|Pudong Airport|启航路
        六灶|Liuzao|川周公路
        """,
        """
        世纪大道|=Century Avenue
        浦东南路|Pudong
        浦东大道|Pudong
        张杨路|Zhangyang
        东方路|Dongfang
        崂山路|Laoshan
        福山路|Fushan
        源深路|Yuanshen
        商城路|Shangcheng
        南泉北路|Nanquan
        浦电路|Pudian
        峨山路|Eshan
        临沂路|Linyi
        昌里路|Changli
        上南路|=Shangnan Road
        杨高南路|Yanggao
        杨高中路|Yanggao
        锦绣路|Jinxiu
        芳甸路|Fangdian
        碧云路|Biyun
        金高路|Jingao
        德平路|Deping
        博山路|Boshan
        栖霞路|Qixia
        沈家弄路|Shenjianong
        灵山路|Lingshan
        罗山路|Luoshan
        龙阳路|Longyang
        白杨路|Baiyang
        高科西路|Gaoke
        成山路|Chengshan
        长清路|Changqing
        云莲路|Yunlian
        永泰路|Yongtai
        海阳路|Haiyang
        川桥路|Chuanqiao
        蔡伦路|Cailun
        郭守敬路|Guoshoujing
        科苑路|Keyuan
        金科路|Jinke
        晨晖路|Chenhui
        盛夏路|Shengxia
        秀浦路|Xiupu
        沪南路|=Hunan Road
        莲园路|Lianyuan
        新金桥路|Xinjinqiao
        巨峰路|Jufeng
        五莲路|Wulian
        莱阳路|Laiyang
        杨高北路|Yanggao
        港城路|Gangcheng
        华夏东路|Huaxia
        川环南路|Chuanhuan
        南祝公路|Nanzhu
        浦兴路|Puxing
        """,
    ),
    (
        "XH",
        "徐汇区",
        "Xuhui",
        """
        徐家汇|Xujiahui|漕溪北路
        漕河泾|Caohejing|宜山路
        田林|Tianlin|田林路
        康健|Kangjian|桂林路
        长桥|Changqiao|罗秀路
        华泾|Huajing|龙吴路
        凌云|Lingyun|梅陇路
        斜土|Xietu|斜土路
        枫林|Fenglin|枫林路
        武康路|Wukang
        天平|Tianping|天平路
        虹梅|Hongmei|虹梅路
        龙华|Longhua|龙华路
        徐汇滨江|Xuhui Riverside|龙腾大道
        上海南站|Shanghai South Railway Station|石龙路
        交通大学|Jiao Tong University|华山路
        """,
        """
        肇嘉浜路|Zhaojiabang
        衡山路|Hengshan
        宛平南路|Wanping
        零陵路|Lingling
        中山南二路|=South Zhongshan No.2 Road
        东安路|Dong'an
        天钥桥路|Tianyaoqiao
        漕溪路|Caoxi
        虹漕路|Hongcao
        钦州路|Qinzhou
        桂平路|Guiping
        柳州路|Liuzhou
        龙华西路|Longhua
        南丹路|Nandan
        广元路|Guangyuan
        乌鲁木齐南路|Wulumuqi
        永嘉路|Yongjia
        建国西路|Jianguo
        复兴西路|Fuxing
        嘉善路|Jiashan
        罗秀路|Luoxiu
        梅陇路|Meilong
        """,
    ),
    (
        "JA",
        "静安区",
        "Jing'an",
        """
        静安寺|Jing'an Temple|愚园路
        南京西路|Nanjing
        曹家渡|Caojiadu|万航渡路
        江宁路|Jiangning
        石门二路|=Shimen No.2 Road
        大宁|Daning|共和新路
        彭浦新村|Pengpu Xincun|临汾路
        天目西路|Tianmu
        上海火车站|Shanghai Railway Station|秣陵路
        宝山路|Baoshan
        芷江西路|Zhijiang
        北站|Beizhan|天目东路
        临汾路|Linfen
        彭浦镇|Pengpu Town|平型关路
        """,
        """
        常德路|Changde
        西康路|Xikang
        胶州路|Jiaozhou
        延安中路|Yan'an
        北京西路|Beijing
        威海路|Weihai
        陕西北路|Shaanxi
        新闸路|Xinzha
        康定路|Kangding
        昌平路|Changping
        乌鲁木齐北路|Wulumuqi
        巨鹿路|Julu
        武定路|Wuding
        海防路|Haifang
        延长中路|Yanchang
        中华新路|Zhonghuaxin
        共和新路|Gonghexin
        大统路|Datong
        恒丰路|Hengfeng
        光复路|Guangfu
        汶水路|Wenshui
        广中西路|Guangzhong
        灵石路|Lingshi
        万荣路|Wanrong
        阳曲路|Yangqu
        洛川中路|Luochuan
        西藏北路|Xizang
        梅园路|Meiyuan
        """,
    ),
    (
        "CN",
        "长宁区",
        "Changning",
        """
        中山公园|Zhongshan Park|长宁路
        天山|Tianshan|天山路
        虹桥|Hongqiao|虹桥路
        古北|Gubei|古北路
        新华路|Xinhua
        仙霞|Xianxia|仙霞路
        北新泾|Beixinjing|剑河路
        程家桥|Chengjiaqiao|虹桥路
        新泾|Xinjing|淞虹路
        虹桥机场|Hongqiao Airport|迎宾一路
        周家桥|Zhoujiaqiao|中山西路
        江苏路|Jiangsu
        华阳路|Huayang
        临空|Linkong|金钟路
        """,
        """
        愚园路|Yuyuan
        定西路|Dingxi
        番禺路|Panyu
        延安西路|Yan'an
        安化路|Anhua
        武夷路|Wuyi
        娄山关路|Loushanguan
        水城路|Shuicheng
        茅台路|Maotai
        遵义路|Zunyi
        芙蓉江路|Furongjiang
        威宁路|Weining
        哈密路|Hami
        剑河路|Jianhe
        淞虹路|Songhong
        协和路|Xiehe
        天山西路|Tianshan
        凯旋路|Kaixuan
        法华镇路|Fahuazhen
        北虹路|Beihong
        """,
    ),
    (
        "PT",
        "普陀区",
        "Putuo",
        """
        长寿路|Changshou
        曹杨新村|Caoyang Xincun|枫桥路
        真如|Zhenru|铜川路
        桃浦|Taopu|桃浦路
        长征|Changzheng|梅川路
        甘泉|Ganquan|志丹路
        宜川|Yichuan|宜川路
        石泉|Shiquan|石泉路
        万里|Wanli|万镇路
        长风|Changfeng|云岭东路
        武宁路|Wuning
        中山北路|Zhongshan
        """,
        """
        曹杨路|Caoyang
        兰溪路|Lanxi
        枣阳路|Zaoyang
        金沙江路|Jinshajiang
        大渡河路|Daduhe
        光新路|Guangxin
        宁夏路|Ningxia
        澳门路|Aomen
        宜昌路|Yichang
        交通路|Jiaotong
        新村路|Xincun
        志丹路|Zhidan
        岚皋路|Langao
        铜川路|Tongchuan
        梅岭北路|Meiling
        桐柏路|Tongbai
        真北路|=Zhenbei Road
        同普路|Tongpu
        祁连山路|Qilianshan
        绥德路|Suide
        怒江路|Nujiang
        泸定路|Luding
        丹巴路|Danba
        武威路|Wuwei
        """,
    ),
    (
        "HK",
        "虹口区",
        "Hongkou",
        """
        四川北路|Sichuan
        北外滩|North Bund|东大名路
        # 上海邮政大楼 / 上海邮政博物馆
        北苏州路|=North Suzhou Road|北苏州路250号
        提篮桥|Tilanqiao|长阳路
        曲阳|Quyang|曲阳路
        凉城|Liangcheng|凉城路
        江湾镇|Jiangwan Town|水电路
        嘉兴路|Jiaxing
        欧阳路|Ouyang
        广中路|=Guangzhong Road
        虹口足球场|Hongkou Stadium|东江湾路
        多伦路|Duolun
        """,
        """
        海宁路|Haining
        武进路|Wujin
        天潼路|Tiantong
        塘沽路|Tanggu
        乍浦路|Zhapu
        海伦路|Hailun
        大连路|Dalian
        周家嘴路|Zhoujiazui
        东长治路|Dongchangzhi
        公平路|Gongping
        溧阳路|Liyang
        甜爱路|Tian'ai
        山阴路|Shanyin
        黄渡路|Huangdu
        密云路|Miyun
        中州路|Zhongzhou
        东体育会路|Dongtiyuhui
        赤峰路|Chifeng
        玉田路|Yutian
        飞虹路|Feihong
        汶水东路|Wenshui
        """,
    ),
    (
        "YP",
        "杨浦区",
        "Yangpu",
        """
        五角场|Wujiaochang|淞沪路
        控江|Kongjiang|控江路
        平凉|Pingliang|平凉路
        定海|Dinghai|定海路
        延吉|Yanji|延吉中路
        殷行|Yinhang|嫩江路
        长白新村|Changbai Xincun|长白路
        新江湾城|Xinjiangwancheng|殷高东路
        大桥|Daqiao|许昌路
        四平路|Siping
        江浦路|Jiangpu
        复旦大学|Fudan University|邯郸路220号
        同济大学|Tongji University|四平路1239号
        杨浦滨江|Yangpu Riverside|杨树浦路
        """,
        """
        黄兴路|Huangxing
        国权路|Guoquan
        政通路|Zhengtong
        国定路|Guoding
        政立路|Zhengli
        翔殷路|Xiangyin
        隆昌路|Longchang
        宁国路|Ningguo
        眉州路|Meizhou
        齐齐哈尔路|Qiqihar
        松花江路|Songhuajiang
        民星路|Minxing
        营口路|Yingkou
        靖宇东路|Jingyu
        鞍山路|Anshan
        抚顺路|Fushun
        本溪路|Benxi
        开鲁路|Kailu
        国和路|Guohe
        军工路|Jungong
        贵阳路|Guiyang
        临青路|Linqing
        内江路|Neijiang
        """,
    ),
    (
        "MH",
        "闵行区",
        "Minhang",
        """
        莘庄|Xinzhuang|莘松路
        七宝|Qibao|新镇路
        颛桥|Zhuanqiao|颛兴路
        华漕|Huacao|纪翟路
        虹桥镇|Hongqiao Town|吴中路
        梅陇|Meilong|莲花南路
        吴泾|Wujing|龙吴路
        马桥|Maqiao|元江路
        浦江|Pujiang|浦星公路
        古美|Gumei|古美路
        江川|Jiangchuan|江川路
        新虹|Xinhong|申长路
        春申|Chunshen|春申路
        龙柏新村|Longbai Xincun|虹井路
        紫竹|Zizhu|东川路
        交大闵行校区|SJTU Minhang Campus|东川路800号
        虹桥火车站|Hongqiao Railway Station|申贵路
        召稼楼|Zhaojialou|沈杜公路
        """,
        """
        沪闵路|Humin
        都市路|Dushi
        银都路|Yindu
        顾戴路|Gudai
        平吉路|Pingji
        万源路|Wanyuan
        虹莘路|Hongxin
        漕宝路|Caobao
        七莘路|Qixin
        新镇路|Xinzhen
        华翔路|Huaxiang
        金丰路|Jinfeng
        申滨路|Shenbin
        浦锦路|Pujin
        江月路|Jiangyue
        浦秀路|Puxiu
        三鲁公路|Sanlu
        沈杜公路|Shendu
        陈行公路|Chenhang
        联航路|Lianhang
        剑川路|Jianchuan
        虹梅南路|Hongmei
        北翟路|Beizhai
        纪翟路|Jizhai
        龙茗路|Longming
        华宁路|Huaning
        莘东路|Xindong
        秀文路|Xiuwen
        莘朱路|Xinzhu
        水清路|Shuiqing
        报春路|Baochun
        """,
    ),
    (
        "BS",
        "宝山区",
        "Baoshan",
        """
        吴淞|Wusong|淞滨路
        大场|Dachang|环镇北路
        杨行|Yanghang|水产路
        月浦|Yuepu|月罗路
        罗店|Luodian|沪太路
        罗泾|Luojing|潘泾路
        顾村|Gucun|泰和西路
        高境|Gaojing|殷高西路
        庙行|Miaohang|场中路
        淞南|Songnan|淞发路
        张庙|Zhangmiao|呼玛路
        通河新村|Tonghe Xincun|呼兰路
        泗塘新村|Sitang Xincun|长江南路
        美兰湖|Meilan Lake|美丹路
        上海大学|Shanghai University|上大路
        宝钢|Baogang|牡丹江路
        """,
        """
        牡丹江路|Mudanjiang
        友谊路|Youyi
        同济路|Tongji
        淞滨路|Songbin
        宝杨路|Baoyang
        密山路|Mishan
        盘古路|Pangu
        共富路|Gongfu
        场中路|=Changzhong Road
        沪太路|Hutai
        真华路|Zhenhua
        锦秋路|Jinqiu
        聚丰园路|Jufengyuan
        南陈路|Nanchen
        呼兰路|Hulan
        水产路|Shuichan
        蕰川路|Yunchuan
        一二八纪念路|Yierba Jinian
        铁力路|Tieli
        长江西路|Changjiang
        泰和路|Taihe
        陆翔路|Luxiang
        殷高西路|Yingao
        上大路|Shangda
        """,
    ),
    (
        "JD",
        "嘉定区",
        "Jiading",
        """
        嘉定镇|Jiading Town|清河路
        南翔|Nanxiang|沪宜公路
        安亭|Anting|墨玉南路
        马陆|Malu|白银路
        徐行|Xuhang|宝钱公路
        华亭|Huating|霜竹公路
        外冈|Waigang|外钱公路
        江桥|Jiangqiao|曹安公路
        菊园|Juyuan|平城路
        真新|Zhenxin|丰庄路
        嘉定新城|Jiading New City|裕民南路
        嘉定工业区|Jiading Industrial Zone|叶城路
        黄渡|Huangdu|嘉松北路
        方泰|Fangtai|宝安公路
        娄塘|Loutang|嘉行公路
        封浜|Fengbang|曹安公路
        """,
        """
        博乐路|Bole
        清河路|Qinghe
        塔城路|Tacheng
        城中路|=Chengzhong Road
        沪宜公路|Huyi
        墨玉路|Moyu
        曹安公路|Cao'an
        金沙江西路|Jinshajiang
        嘉松北路|Jiasong
        平城路|Pingcheng
        裕民南路|Yumin
        白银路|Baiyin
        叶城路|Yecheng
        胜辛路|Shengxin
        天祝路|Tianzhu
        洪德路|Hongde
        永盛路|Yongsheng
        嘉戬公路|Jiajian
        环城路|Huancheng
        福海路|Fuhai
        宝安公路|Bao'an
        """,
    ),
    (
        "SJ",
        "松江区",
        "Songjiang",
        """
        松江老城|Songjiang Old Town|中山中路
        泗泾|Sijing|泗砖公路
        九亭|Jiuting|沪亭北路
        洞泾|Dongjing|沈砖公路
        佘山|Sheshan|外青松公路
        车墩|Chedun|北松公路
        新桥|Xinqiao|莘砖公路
        小昆山|Xiaokunshan|文翔路
        石湖荡|Shihudang|松蒸公路
        新浜|Xinbang|松蒸公路
        泖港|Maogang|松金公路
        叶榭|Yexie|叶新公路
        方松|Fangsong|文诚路
        永丰|Yongfeng|玉树路
        岳阳|Yueyang|人民南路
        松江大学城|Songjiang University Town|文汇路
        广富林|Guangfulin|广富林路
        泰晤士小镇|Thames Town|三新北路
        """,
        """
        荣乐中路|Rongle
        谷阳北路|Guyang
        人民北路|Renmin
        西林北路|Xilin
        乐都路|Ledu
        新松江路|Xinsongjiang
        文诚路|Wencheng
        松汇中路|Songhui
        茸梅路|Rongmei
        梅家浜路|Meijiabang
        沪松公路|Husong
        九新公路|Jiuxin
        涞亭南路|Laiting
        嘉松南路|Jiasong
        辰花路|Chenhua
        玉树路|Yushu
        龙源路|Longyuan
        荣乐东路|Rongle
        沪亭北路|Huting
        思贤路|Sixian
        """,
    ),
    (
        "QP",
        "青浦区",
        "Qingpu",
        """
        青浦老城|Qingpu Old Town|公园路
        朱家角|Zhujiajiao|祥凝浜路
        赵巷|Zhaoxiang|嘉松中路
        徐泾|Xujing|徐乐路
        华新|Huaxin|北青公路
        重固|Chonggu|北青公路
        白鹤|Baihe|外青松公路
        练塘|Liantang|朱枫公路
        金泽|Jinze|沪青平公路
        夏阳|Xiayang|盈港东路
        香花桥|Xianghuaqiao|外青松公路
        商榻|Shangta|沪青平公路
        国家会展中心|National Exhibition and Convention Center|崧泽大道333号
        蟠龙|Panlong|蟠龙路
        """,
        """
        城中北路|Chengzhong
        盈港东路|Yinggang
        淀山湖大道|Dianshanhu
        华青南路|Huaqing
        沪青平公路|Huqingping
        诸光路|Zhuguang
        双联路|Shuanglian
        漕盈路|Caoying
        城中东路|Chengzhong
        业辉路|Yehui
        赵重公路|Zhaochong
        华徐公路|Huaxu
        公园路|Gongyuan
        徐乐路|Xule
        """,
    ),
    (
        "FX",
        "奉贤区",
        "Fengxian",
        """
        南桥|Nanqiao|解放中路
        奉城|Fengcheng|南奉公路
        庄行|Zhuanghang|南亭公路
        金汇|Jinhui|大叶公路
        四团|Situan|川南奉公路
        青村|Qingcun|南奉公路
        柘林|Zhelin|金钱公路
        海湾|Haiwan|海思路
        西渡|Xidu|西闸公路
        奉浦|Fengpu|奉浦大道
        邬桥|Wuqiao|浦卫公路
        萧塘|Xiaotang|大叶公路
        南桥新城|Nanqiao New City|金海公路
        """,
        """
        解放东路|Jiefang
        环城东路|Huancheng
        百齐路|Baiqi
        南桥路|Nanqiao
        望园路|Wangyuan
        江海路|Jianghai
        运河北路|Yunhe
        新建东路|Xinjian
        金海公路|Jinhai
        沪杭公路|Huhang
        航南公路|Hangnan
        金齐路|Jinqi
        西闸公路|Xizha
        南亭公路|Nanting
        浦卫公路|Puwei
        """,
    ),
    (
        "JS",
        "金山区",
        "Jinshan",
        """
        石化|Shihua|卫零路
        朱泾|Zhujing|亭枫公路
        枫泾|Fengjing|朱枫公路
        亭林|Tinglin|亭卫公路
        张堰|Zhangyan|松金公路
        金山卫|Jinshanwei|亭卫南路
        漕泾|Caojing|漕廊公路
        山阳|Shanyang|卫清东路
        吕巷|Lüxiang|朱吕公路
        廊下|Langxia|漕廊公路
        金山工业区|Jinshan Industrial Zone|亭卫公路
        """,
        """
        卫零路|Weiling
        蒙山路|Mengshan
        龙胜路|Longsheng
        卫清西路|Weiqing
        卫清东路|Weiqing
        亭卫公路|Tingwei
        板桥西路|Banqiao
        金一东路|Jinyi
        朱吕公路|Zhulü
        松金公路|Songjin
        亭枫公路|Tingfeng
        漕廊公路|Caolang
        龙航路|Longhang
        金山大道|Jinshan
        """,
    ),
    (
        "CM",
        "崇明区",
        "Chongming",
        """
        城桥|Chengqiao|八一路
        堡镇|Baozhen|陈海公路
        新河|Xinhe|陈海公路
        庙镇|Miaozhen|北沿公路
        陈家镇|Chenjiazhen|陈海公路
        向化|Xianghua|陈海公路
        中兴|Zhongxing|陈海公路
        港西|Gangxi|北沿公路
        建设|Jianshe|三双公路
        竖新|Shuxin|北沿公路
        三星|Sanxing|北沿公路
        绿华|Lühua|北沿公路
        港沿|Gangyan|陈海公路
        东平|Dongping|北沿公路
        长兴岛|Changxing Island|潘园公路
        横沙岛|Hengsha Island|新民路
        """,
        """
        八一路|Bayi
        人民路|Renmin
        鳌山路|Aoshan
        南门路|Nanmen
        翠竹路|Cuizhu
        崇明大道|Chongming
        西门路|Ximen
        """,
    ),
)

# Ordered: longer suffixes first so that 东路 wins over 路.
_ROAD_EN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("公路", "{} Highway"),
    ("大道", "{} Avenue"),
    ("东路", "East {} Road"),
    ("西路", "West {} Road"),
    ("南路", "South {} Road"),
    ("北路", "North {} Road"),
    ("中路", "Middle {} Road"),
    ("路", "{} Road"),
    ("街", "{} Street"),
)
_ROAD_ENDINGS: tuple[str, ...] = ("路", "街", "大道", "公路")
_FIXED_ADDRESS = re.compile(r"^(?P<road>.+?)(?P<number>\d+)号$")

_BRANCH_SUFFIX = ("邮政支局", "Post Office")
_SUB_SUFFIXES = (("邮政所", "Sub-Post Office"), ("邮政营业部", "Postal Service Hall"))


@dataclass(frozen=True)
class _Place:
    name: str
    name_en: str
    road: str
    fixed_number: int | None
    branch: bool


def _place_en(name: str, english: str) -> str:
    if english.startswith("="):
        return english[1:]
    for suffix, pattern in _ROAD_EN_PATTERNS:
        if name.endswith(suffix):
            return pattern.format(english)
    return english


def _parse_places(block: str, *, branch: bool) -> list[_Place]:
    places: list[_Place] = []
    for raw in block.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("|")
        name, english = fields[0], fields[1]
        road = fields[2] if len(fields) > 2 else name
        fixed_number: int | None = None
        match = _FIXED_ADDRESS.match(road)
        if match:
            road, fixed_number = match.group("road"), int(match.group("number"))
        if not road.endswith(_ROAD_ENDINGS):
            raise ValueError(f"no street for address of {name!r}")
        places.append(_Place(name, _place_en(name, english), road, fixed_number, branch))
    return places


def _house_number(road: str, seq: int, salt: int) -> int:
    """Deterministic, plausible house number: highways run into the thousands."""
    if road.endswith(("公路", "大道")):
        return 100 + (seq * 211 + salt * 67) % 3800
    return 1 + (seq * 37 + salt * 23) % 680


def _spread(count: int, total: int, offset: int) -> list[int]:
    """`count` indexes spread evenly over `total` places, shifted by `offset`."""
    return [((2 * k + 1) * total // (2 * count) + offset) % total for k in range(count)]


def _district_institutions(
    salt: int, suffix: str, district_zh: str, district_en: str, branch: str, sub: str
) -> tuple[InstitutionSeed, list[InstitutionSeed]]:
    district_code = f"SH-{suffix}"
    district_en_full = (
        f"{district_en} New Area Bureau"
        if district_zh.endswith("新区")
        else f"{district_en} District Bureau"
    )
    district = InstitutionSeed(
        code=district_code,
        name=f"上海市{district_zh}邮政分公司",
        name_en=district_en_full,
        kind="district",
        parent_code=COMPANY.code,
    )
    places = _parse_places(branch, branch=True) + _parse_places(sub, branch=False)
    children: list[InstitutionSeed] = []

    def add(name: str, name_en: str, kind: str, place: _Place, number_shift: int = 0) -> None:
        seq = len(children) + 1
        if place.fixed_number is not None and number_shift == 0:
            number = place.fixed_number
        elif place.fixed_number is not None:
            number = place.fixed_number + 2 * number_shift
        else:
            number = _house_number(place.road, seq, salt)
        children.append(
            InstitutionSeed(
                code=f"{district_code}-{seq:04d}",
                name=name,
                name_en=name_en,
                kind=kind,
                parent_code=district_code,
                address=f"上海市{district_zh}{place.road}{number}号",
            )
        )

    sub_index = 0
    for place in places:
        if place.branch:
            zh_suffix, en_suffix = _BRANCH_SUFFIX
        else:
            zh_suffix, en_suffix = _SUB_SUFFIXES[sub_index % 2]
            sub_index += 1
        add(f"{place.name}{zh_suffix}", f"{place.name_en} {en_suffix}", "outlet", place)

    kiosks = max(2, len(places) // 20)
    for place in (places[i] for i in _spread(kiosks, len(places), 0)):
        add(
            f"{place.name}自助邮政服务亭",
            f"{place.name_en} Self-Service Postal Kiosk",
            "kiosk",
            place,
            number_shift=1,
        )

    stores = max(2, len(places) // 15)
    for k, place in enumerate(places[i] for i in _spread(stores, len(places), 3)):
        if k % 2 == 0:
            name, name_en = f"邮乐小店{place.name}店", f"Youle Store ({place.name_en})"
        else:
            name = f"{place.name}邮政便民服务站"
            name_en = f"{place.name_en} Postal Convenience Station"
        add(name, name_en, "store", place, number_shift=2)

    return district, children


def _build_institutions() -> tuple[InstitutionSeed, ...]:
    districts: list[InstitutionSeed] = []
    children: list[InstitutionSeed] = []
    for salt, (suffix, district_zh, district_en, branch, sub) in enumerate(
        _DISTRICT_SOURCES, start=1
    ):
        district, units = _district_institutions(
            salt, suffix, district_zh, district_en, branch, sub
        )
        districts.append(district)
        children.extend(units)
    return (COMPANY, *districts, *children)


INSTITUTIONS: tuple[InstitutionSeed, ...] = _build_institutions()


# ---------------------------------------------------------------------------
# Channels, business types, categories
# ---------------------------------------------------------------------------

CHANNELS: tuple[ChannelSeed, ...] = (
    ChannelSeed("web", "网上商城", "Online mall", online=True, needs_institution=False),
    ChannelSeed("app", "中国邮政App", "China Post app", online=True, needs_institution=False),
    ChannelSeed(
        "counter", "邮政网点柜台", "Post office counter", online=False, needs_institution=True
    ),
    ChannelSeed("retail", "连锁零售", "Chain retail store", online=False, needs_institution=True),
    ChannelSeed(
        "hotline", "11185客服热线", "11185 call centre", online=True, needs_institution=False
    ),
    ChannelSeed(
        "distribution", "投递揽收", "Delivery & pickup", online=False, needs_institution=False
    ),
    ChannelSeed("partner", "合作伙伴", "Partners", online=True, needs_institution=False),
)

BUSINESS_TYPES: tuple[BusinessTypeSeed, ...] = (
    BusinessTypeSeed("goods", "商品", "Goods"),
    BusinessTypeSeed("bill_payment", "生活缴费", "Bill payment"),
    BusinessTypeSeed("mailing", "寄递", "Mailing"),
    BusinessTypeSeed("subscription", "报刊订阅", "Press subscription"),
    BusinessTypeSeed("philately", "集邮", "Philately"),
    BusinessTypeSeed("service", "其他服务", "Other services"),
)

CATEGORIES: tuple[CategorySeed, ...] = (
    CategorySeed("home", "家居百货", "Home"),
    CategorySeed("baby", "母婴用品", "Mother & baby"),
    CategorySeed("digital", "数码家电", "Digital & appliances"),
    CategorySeed("beauty", "美容护肤", "Beauty"),
    CategorySeed("sports", "运动户外", "Sports & outdoor"),
    CategorySeed("jewelry", "珠宝首饰", "Jewellery"),
    CategorySeed("food", "食品饮料", "Food & drink"),
    CategorySeed("farm", "绿邮田园", "Farm produce"),
    CategorySeed("stamps", "集邮", "Philately"),
    CategorySeed("press", "报刊", "Newspapers & magazines"),
    CategorySeed("other", "其他", "Other"),
)


# ---------------------------------------------------------------------------
# Earning rules
# ---------------------------------------------------------------------------

# Channels whose goods orders are delivered to the member and so carry a 7-day return window.
_RETURN_WINDOW_CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("web", "网上商城", "online mall"),
    ("app", "中国邮政App", "China Post app"),
    ("hotline", "11185热线", "11185 hotline"),
    ("distribution", "投递揽收", "delivery & pickup"),
)

EARNING_RULES: tuple[EarningRuleSeed, ...] = (
    EarningRuleSeed(
        code="BASE-GOODS",
        business_type="goods",
        channel=None,
        category=None,
        points=1,
        per_fen=100,
        fixed_points=0,
        pending_days=0,
        description="商品消费每1元积1分",
        description_en="Goods: 1 point per yuan",
    ),
    *(
        EarningRuleSeed(
            code=f"BASE-GOODS-{channel.upper()}",
            business_type="goods",
            channel=channel,
            category=None,
            points=1,
            per_fen=100,
            fixed_points=0,
            pending_days=7,
            description=f"{label}商品订单每1元积1分 7天退货期后到账",
            description_en=f"Goods via {label_en}: 1 point per yuan, available after 7-day returns",
        )
        for channel, label, label_en in _RETURN_WINDOW_CHANNELS
    ),
    # Gold and jewellery are low-margin: half rate.
    EarningRuleSeed(
        code="BASE-GOODS-JEWELRY",
        business_type="goods",
        channel=None,
        category="jewelry",
        points=1,
        per_fen=200,
        fixed_points=0,
        pending_days=0,
        description="珠宝首饰每2元积1分",
        description_en="Jewellery: 1 point per 2 yuan",
    ),
    *(
        EarningRuleSeed(
            code=f"BASE-GOODS-JEWELRY-{channel.upper()}",
            business_type="goods",
            channel=channel,
            category="jewelry",
            points=1,
            per_fen=200,
            fixed_points=0,
            pending_days=7,
            description=f"{label}珠宝首饰每2元积1分 7天退货期后到账",
            description_en=(
                f"Jewellery via {label_en}: 1 point per 2 yuan, available after 7-day returns"
            ),
        )
        for channel, label, label_en in _RETURN_WINDOW_CHANNELS
    ),
    EarningRuleSeed(
        code="BASE-PHILATELY",
        business_type="philately",
        channel=None,
        category=None,
        points=1,
        per_fen=100,
        fixed_points=0,
        pending_days=0,
        description="集邮业务每1元积1分",
        description_en="Philately: 1 point per yuan",
    ),
    EarningRuleSeed(
        code="BASE-SUBSCRIPTION",
        business_type="subscription",
        channel=None,
        category=None,
        points=1,
        per_fen=100,
        fixed_points=0,
        pending_days=0,
        description="报刊订阅每1元积1分",
        description_en="Press subscription: 1 point per yuan",
    ),
    EarningRuleSeed(
        code="BASE-BILL-PAYMENT",
        business_type="bill_payment",
        channel=None,
        category=None,
        points=1,
        per_fen=200,
        fixed_points=0,
        pending_days=0,
        description="生活缴费每2元积1分",
        description_en="Bill payment: 1 point per 2 yuan",
    ),
    EarningRuleSeed(
        code="BASE-MAILING",
        business_type="mailing",
        channel=None,
        category=None,
        points=1,
        per_fen=100,
        fixed_points=10,
        pending_days=0,
        description="寄递每件奖励10分 另每1元积1分",
        description_en="Mailing: 10 points per item plus 1 point per yuan",
    ),
    EarningRuleSeed(
        code="BASE-SERVICE",
        business_type="service",
        channel=None,
        category=None,
        points=1,
        per_fen=200,
        fixed_points=0,
        pending_days=0,
        description="其他服务每2元积1分",
        description_en="Other services: 1 point per 2 yuan",
    ),
)


# ---------------------------------------------------------------------------
# Tiers and rewards
# ---------------------------------------------------------------------------

TIERS: tuple[TierSeed, ...] = (
    TierSeed("regular", "普卡", "Regular", rank=0, min_points_12m=0, multiplier_bp=10000),
    TierSeed("silver", "银卡", "Silver", 1, 2000, 11000, 300_000, birthday_bonus_points=200),
    TierSeed(
        "gold",
        "金卡",
        "Gold",
        2,
        8000,
        12500,
        1_200_000,
        birthday_bonus_points=500,
        free_delivery=True,
    ),
    TierSeed(
        "diamond",
        "钻石卡",
        "Diamond",
        3,
        30000,
        15000,
        4_500_000,
        birthday_bonus_points=1000,
        free_delivery=True,
    ),
)
# 自邮一族: campaign bonuses do not count towards a tier; a member who falls short keeps
# the tier for 90 days from the review that found it.
CLUB = ClubSeed(campaign_bonus_qualifies=False, grace_days=90)

# Roughly 100 points = 1 yuan of value.
REWARDS: tuple[RewardSeed, ...] = (
    RewardSeed(
        "GIFT-CANVAS-BAG",
        "邮政定制帆布袋",
        "China Post canvas tote bag",
        kind="goods",
        points_cost=1500,
        cash_fen=0,
        stock=2000,
    ),
    RewardSeed(
        "GIFT-POSTCARD-SET",
        "上海风光明信片套装",
        "Shanghai scenery postcard set",
        kind="goods",
        points_cost=800,
        cash_fen=0,
        stock=3000,
    ),
    RewardSeed(
        "GIFT-ZODIAC-SHEET",
        "生肖邮票小版张",
        "Zodiac stamp mini-sheet",
        kind="goods",
        points_cost=2000,
        cash_fen=0,
        stock=500,
    ),
    RewardSeed(
        "GIFT-POSTBOX-BANK",
        "绿色邮筒存钱罐",
        "Green postbox money bank",
        kind="goods",
        points_cost=3500,
        cash_fen=0,
        stock=1000,
    ),
    RewardSeed(
        "GIFT-FARM-RICE-5KG",
        "绿邮田园崇明大米5kg",
        "Chongming farm rice 5 kg",
        kind="goods",
        points_cost=4000,
        cash_fen=0,
        stock=600,
    ),
    RewardSeed(
        "GIFT-MOONCAKE",
        "浦江礼月饼礼盒",
        "Pujiang mooncake gift box",
        kind="goods",
        points_cost=6000,
        cash_fen=4900,
        stock=800,
    ),
    RewardSeed(
        "GIFT-STAMP-YEARBOOK",
        "中国邮票年册",
        "China stamp yearbook",
        kind="goods",
        points_cost=20000,
        cash_fen=30000,
        stock=200,
    ),
    RewardSeed(
        "VOUCHER-MALL-10",
        "10元商城券",
        "10 yuan mall voucher",
        kind="voucher",
        points_cost=1000,
        cash_fen=0,
        stock=None,
        value_fen=1000,
        min_spend_fen=5000,
        valid_days=90,
    ),
    RewardSeed(
        "VOUCHER-MALL-20",
        "20元商城券",
        "20 yuan mall voucher",
        kind="voucher",
        points_cost=2000,
        cash_fen=0,
        stock=None,
        value_fen=2000,
        min_spend_fen=10000,
        valid_days=90,
    ),
    RewardSeed(
        "VOUCHER-MALL-50",
        "50元商城券",
        "50 yuan mall voucher",
        kind="voucher",
        points_cost=5000,
        cash_fen=0,
        stock=None,
        value_fen=5000,
        min_spend_fen=20000,
        valid_days=90,
    ),
    RewardSeed(
        "VOUCHER-MAILING-5",
        "5元寄递优惠券",
        "5 yuan mailing voucher",
        kind="voucher",
        points_cost=500,
        cash_fen=0,
        stock=None,
        value_fen=500,
        min_spend_fen=0,
        valid_days=180,
        applies_to="mailing",
    ),
    RewardSeed(
        "BILL-MOBILE-10",
        "10元话费抵扣",
        "10 yuan mobile top-up credit",
        kind="bill_credit",
        points_cost=1000,
        cash_fen=0,
        stock=None,
        value_fen=1000,
        min_spend_fen=0,
        valid_days=90,
        applies_to="bill_payment",
        biller_kind="landline",
    ),
    RewardSeed(
        "BILL-WATER-10",
        "10元水费抵扣",
        "10 yuan water bill credit",
        kind="bill_credit",
        points_cost=1000,
        cash_fen=0,
        stock=None,
        value_fen=1000,
        min_spend_fen=0,
        valid_days=90,
        applies_to="bill_payment",
        biller_kind="water",
    ),
    RewardSeed(
        "BILL-GAS-20",
        "20元燃气费抵扣",
        "20 yuan gas bill credit",
        kind="bill_credit",
        points_cost=2000,
        cash_fen=0,
        stock=None,
        value_fen=2000,
        min_spend_fen=0,
        valid_days=90,
        applies_to="bill_payment",
        biller_kind="gas",
    ),
    RewardSeed(
        "MILES-MU-500",
        "东方航空积分500里程",
        "China Eastern Eastern Miles 500",
        kind="partner_miles",
        points_cost=4000,
        cash_fen=0,
        stock=None,
    ),
)
