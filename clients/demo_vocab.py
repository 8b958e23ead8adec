"""Words the demo seeders build realistic Chinese and English company records from.

Kept apart from the seeding logic so that the lists can grow without touching
it. Names are made from these parts by index (see ``clients.seed.company_name``),
which keeps every generated company name unique.
"""

from __future__ import annotations

# Chinese name cores: character, pinyin (consonant-initial, distinct, so that
# two-character cores give distinct web domains).
ZH_CORE = [
    ("华", "hua"), ("信", "xin"), ("宏", "hong"), ("达", "da"), ("金", "jin"),
    ("桥", "qiao"), ("瑞", "rui"), ("丰", "feng"), ("恒", "heng"), ("通", "tong"),
    ("博", "bo"), ("远", "yuan"), ("星", "xing"), ("辰", "chen"), ("鼎", "ding"),
    ("盛", "sheng"), ("中", "zhong"), ("联", "lian"), ("天", "tian"), ("成", "cheng"),
    ("东", "dong"), ("海", "hai"), ("泰", "tai"), ("昌", "chang"), ("嘉", "jia"),
    ("润", "run"), ("德", "de"), ("创", "chuang"), ("科", "ke"), ("立", "li"),
    ("明", "ming"), ("光", "guang"), ("腾", "teng"), ("凯", "kai"), ("祥", "xiang"),
    ("和", "he"), ("瀚", "han"), ("正", "zheng"), ("永", "yong"), ("森", "sen"),
]  # fmt: skip

# Chinese industry word, web-domain slug, industry (stored in English, the list filter value)
ZH_INDUSTRY = [
    ("科技", "tech", "Software & IT"),
    ("电子", "elec", "Electronics"),
    ("机械", "mach", "Machinery"),
    ("精密制造", "precision", "Manufacturing"),
    ("医疗器械", "medical", "Medical devices"),
    ("生物医药", "bio", "Pharmaceuticals"),
    ("物流", "logistics", "Logistics"),
    ("食品", "food", "Food & beverage"),
    ("化工", "chem", "Chemicals"),
    ("汽车零部件", "autoparts", "Automotive"),
    ("信息技术", "it", "Software & IT"),
    ("软件", "soft", "Software & IT"),
    ("光电", "opto", "Electronics"),
    ("环保科技", "eco", "Environmental services"),
    ("能源", "energy", "Energy"),
    ("新材料", "material", "Materials"),
    ("建设工程", "build", "Construction"),
    ("纺织", "textile", "Textiles"),
    ("教育科技", "edu", "Education"),
    ("智能装备", "smart", "Machinery"),
]
ZH_FORMS = [("有限公司", 60), ("股份有限公司", 25), ("集团有限公司", 10), ("有限责任公司", 5)]
# Public-sector organisations: pattern with {city} and {core}, industry
ZH_PUBLIC = [
    ("{city}{core}人民医院", "Healthcare"),
    ("{city}{core}职业技术学院", "Education"),
    ("{city}市{core}水务集团有限公司", "Utilities"),
    ("{city}{core}中心医院", "Healthcare"),
    ("{city}{core}实验学校", "Education"),
]

EN_WORDS = [
    "Bright", "Blue", "Gold", "Silver", "Star", "Sun", "Sky", "Ever", "Great", "Grand",
    "Jade", "Pearl", "Dragon", "Phoenix", "Crystal", "Summit", "Peak", "River", "Ocean",
    "Wave", "Stone", "Bridge", "Harbor", "Union", "Pioneer", "Vision", "Nova", "Delta",
    "Apex", "Prime", "Smart", "Green", "Red", "East", "Rising", "Harmony", "Unity",
    "Fortune", "Lotus", "Maple",
]  # fmt: skip
# English industry word, industry
EN_INDUSTRY = [
    ("Optics", "Electronics"),
    ("Electronics", "Electronics"),
    ("Precision Machinery", "Machinery"),
    ("Medical Technology", "Medical devices"),
    ("Logistics", "Logistics"),
    ("Foods", "Food & beverage"),
    ("Chemicals", "Chemicals"),
    ("Auto Parts", "Automotive"),
    ("Software", "Software & IT"),
    ("Semiconductor", "Electronics"),
    ("Materials", "Materials"),
    ("Energy", "Energy"),
    ("Packaging", "Manufacturing"),
    ("Textiles", "Textiles"),
    ("Robotics", "Machinery"),
    ("Instruments", "Manufacturing"),
    ("Biotech", "Pharmaceuticals"),
    ("Plastics", "Chemicals"),
    ("Engineering", "Construction"),
    ("Education Technology", "Education"),
]

# region name → cities: (English, Chinese, province, area code, division code)
CITIES: dict[str, list[tuple[str, str, str, str, str]]] = {
    "East": [
        ("Shanghai", "上海", "Shanghai", "021", "310115"),
        ("Suzhou", "苏州", "Jiangsu", "0512", "320505"),
        ("Nanjing", "南京", "Jiangsu", "025", "320106"),
        ("Wuxi", "无锡", "Jiangsu", "0510", "320214"),
        ("Hangzhou", "杭州", "Zhejiang", "0571", "330106"),
        ("Ningbo", "宁波", "Zhejiang", "0574", "330212"),
        ("Hefei", "合肥", "Anhui", "0551", "340104"),
    ],
    "North": [
        ("Beijing", "北京", "Beijing", "010", "110108"),
        ("Tianjin", "天津", "Tianjin", "022", "120116"),
        ("Shijiazhuang", "石家庄", "Hebei", "0311", "130102"),
        ("Taiyuan", "太原", "Shanxi", "0351", "140105"),
        ("Jinan", "济南", "Shandong", "0531", "370102"),
        ("Qingdao", "青岛", "Shandong", "0532", "370212"),
        ("Shenyang", "沈阳", "Liaoning", "024", "210102"),
        ("Dalian", "大连", "Liaoning", "0411", "210204"),
    ],
    "South": [
        ("Guangzhou", "广州", "Guangdong", "020", "440106"),
        ("Shenzhen", "深圳", "Guangdong", "0755", "440305"),
        ("Dongguan", "东莞", "Guangdong", "0769", "441900"),
        ("Foshan", "佛山", "Guangdong", "0757", "440604"),
        ("Xiamen", "厦门", "Fujian", "0592", "350203"),
        ("Fuzhou", "福州", "Fujian", "0591", "350102"),
    ],
    "West": [
        ("Chengdu", "成都", "Sichuan", "028", "510107"),
        ("Chongqing", "重庆", "Chongqing", "023", "500103"),
        ("Xi'an", "西安", "Shaanxi", "029", "610113"),
        ("Kunming", "昆明", "Yunnan", "0871", "530102"),
        ("Guiyang", "贵阳", "Guizhou", "0851", "520102"),
    ],
}

# city → two districts (Chinese, English)
DISTRICTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Shanghai": (("浦东新区", "Pudong"), ("闵行区", "Minhang")),
    "Suzhou": (("工业园区", "SIP"), ("高新区", "SND")),
    "Nanjing": (("江宁区", "Jiangning"), ("鼓楼区", "Gulou")),
    "Wuxi": (("新吴区", "Xinwu"), ("滨湖区", "Binhu")),
    "Hangzhou": (("滨江区", "Binjiang"), ("余杭区", "Yuhang")),
    "Ningbo": (("鄞州区", "Yinzhou"), ("北仑区", "Beilun")),
    "Hefei": (("蜀山区", "Shushan"), ("包河区", "Baohe")),
    "Beijing": (("海淀区", "Haidian"), ("朝阳区", "Chaoyang")),
    "Tianjin": (("滨海新区", "Binhai"), ("西青区", "Xiqing")),
    "Shijiazhuang": (("长安区", "Chang'an"), ("裕华区", "Yuhua")),
    "Taiyuan": (("小店区", "Xiaodian"), ("迎泽区", "Yingze")),
    "Jinan": (("历下区", "Lixia"), ("高新区", "Gaoxin")),
    "Qingdao": (("崂山区", "Laoshan"), ("黄岛区", "Huangdao")),
    "Shenyang": (("和平区", "Heping"), ("浑南区", "Hunnan")),
    "Dalian": (("沙河口区", "Shahekou"), ("甘井子区", "Ganjingzi")),
    "Guangzhou": (("天河区", "Tianhe"), ("黄埔区", "Huangpu")),
    "Shenzhen": (("南山区", "Nanshan"), ("宝安区", "Bao'an")),
    "Dongguan": (("松山湖", "Songshan Lake"), ("长安镇", "Chang'an")),
    "Foshan": (("禅城区", "Chancheng"), ("顺德区", "Shunde")),
    "Xiamen": (("思明区", "Siming"), ("湖里区", "Huli")),
    "Fuzhou": (("鼓楼区", "Gulou"), ("仓山区", "Cangshan")),
    "Chengdu": (("武侯区", "Wuhou"), ("高新区", "Gaoxin")),
    "Chongqing": (("渝中区", "Yuzhong"), ("两江新区", "Liangjiang")),
    "Xi'an": (("雁塔区", "Yanta"), ("高新区", "Gaoxin")),
    "Kunming": (("五华区", "Wuhua"), ("官渡区", "Guandu")),
    "Guiyang": (("南明区", "Nanming"), ("观山湖区", "Guanshanhu")),
}

STREETS = [
    ("科技路", "Keji Road"),
    ("创新大道", "Chuangxin Avenue"),
    ("工业园路", "Gongyeyuan Road"),
    ("人民路", "Renmin Road"),
    ("建设路", "Jianshe Road"),
    ("高新大道", "Gaoxin Avenue"),
    ("滨江路", "Binjiang Road"),
    ("中山路", "Zhongshan Road"),
    ("长江路", "Changjiang Road"),
    ("学府路", "Xuefu Road"),
]

SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"),
    ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"),
]  # fmt: skip
GIVEN_NAMES = [
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"),
    ("强", "Qiang"), ("磊", "Lei"), ("洋", "Yang"), ("艳", "Yan"), ("勇", "Yong"),
    ("军", "Jun"), ("杰", "Jie"), ("娟", "Juan"), ("涛", "Tao"), ("明", "Ming"),
    ("超", "Chao"), ("秀英", "Xiuying"), ("霞", "Xia"), ("平", "Ping"), ("刚", "Gang"),
    ("建华", "Jianhua"), ("晓东", "Xiaodong"), ("海燕", "Haiyan"), ("志强", "Zhiqiang"),
    ("文博", "Wenbo"), ("思远", "Siyuan"), ("雪梅", "Xuemei"), ("子涵", "Zihan"),
]  # fmt: skip
ENGLISH_GIVEN = [
    "David", "Emily", "Kevin", "Grace", "Jason", "Helen", "Tony", "Lucy", "Michael",
    "Sophia", "Eric", "Cathy", "Frank", "Iris", "Vincent", "Anna", "Peter", "Cindy",
]  # fmt: skip

# title (zh), title (en), department (zh), department (en), decision role
CONTACT_ROLES = [
    ("总经理", "General Manager", "总经办", "Management", "decision_maker"),
    ("副总经理", "Deputy General Manager", "总经办", "Management", "decision_maker"),
    ("采购经理", "Purchasing Manager", "采购部", "Purchasing", "influencer"),
    ("IT总监", "IT Director", "信息部", "IT", "influencer"),
    ("财务总监", "Finance Director", "财务部", "Finance", "decision_maker"),
    ("生产经理", "Production Manager", "生产部", "Production", "user"),
    ("工程师", "Engineer", "技术部", "Engineering", "user"),
    ("行政助理", "Administrative Assistant", "行政部", "Administration", "gatekeeper"),
    ("质量经理", "Quality Manager", "质量部", "Quality", "user"),
    ("采购专员", "Purchasing Specialist", "采购部", "Purchasing", "gatekeeper"),
]

TAGS = [
    "Strategic",
    "Listed company",
    "State-owned",
    "Foreign-invested",
    "Export business",
    "Partner",
    "Referral source",
    "Price sensitive",
    "Expansion plans",
    "Needs follow-up",
]

CLIENT_NOTES = [
    "Budget cycle starts in October; proposals must be in by September.",
    "Prefers WeChat for quick questions, e-mail for anything formal.",
    "决策链较长，需要提前准备技术方案和案例。",
    "Plant visit possible on Tuesdays and Thursdays only.",
    "对价格敏感，但重视售后服务响应速度。",
    "New IT director since last year; relationship still being built.",
    "Parent group standardises suppliers centrally — check with HQ.",
    "计划明年扩建二期工厂。",
]
