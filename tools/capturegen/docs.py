"""Approved documents of the kinds village and town offices in Zhejiang stamp.

Every template is a function `(ctx) -> Doc`; `ctx` is a `Ctx` of randomly drawn names,
places, numbers and dates.  Templates, person names, villages and towns are split into
a `tune` pool, a disjoint `test` pool and a third disjoint `shift` pool, so each of test and
shift holds out all of them.

A document is a list of blocks.  Each block has a style that drives layout
(`title`, `salutation`, `field`, `para`, `sign`, `sign_left`, `date`) and its text.
The approved text of a document is its block texts joined with "\n".
"""
from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------------------
# Pools (tune / test / shift are disjoint except for surnames)
# ---------------------------------------------------------------------------
SURNAMES = list("王陈张李吴周徐朱沈胡金杨黄俞钱孙方叶潘郑何楼蒋应邵汪姚章施童")

GIVEN = {
    "tune": ["建国", "国强", "美华", "秀英", "志明", "海燕", "伟东", "丽娟", "永康", "春花",
             "德明", "红梅", "建平", "小燕", "立新", "桂芳", "卫东", "月琴", "伟", "芳",
             "杰", "敏", "刚", "静", "雪芬", "振华", "利民", "玉兰", "金水", "阿根"],
    "test": ["国庆", "建华", "素珍", "晓东", "爱萍", "荣根", "文斌", "彩娥", "志强", "菊英",
             "汉良", "云飞", "宏伟", "巧玲", "水根", "丽萍", "林", "勇", "磊", "婷",
             "海峰", "雅琴", "根宝", "佩华", "伟民", "亚芬", "俊", "燕", "国平", "金花"],
    "shift": ["金土", "顺法", "爱娟", "伟国", "彩凤", "忠良", "秋月", "建新", "小芬", "永根",
              "美娟", "新民", "淑贞", "春林", "益民", "玲", "军", "华", "丹", "鹏",
              "卫国", "招娣", "福根", "晓红", "庆丰", "凤英", "斌", "霞", "土根", "秀兰"],
}

# (county, town, [villages])
PLACES = {
    "tune": [
        ("余杭区", "仁和街道", ["獐山", "东塘", "葛墩", "永泰", "新桥"]),
        ("德清县", "新市镇", ["蔡界", "宋市", "士林", "白彪", "加元"]),
        ("安吉县", "递铺街道", ["鲁家", "古城", "双一", "赤坞", "三友"]),
        ("桐乡市", "乌镇镇", ["陈庄", "民合", "虹桥", "横港", "浮澜桥"]),
    ],
    "test": [
        ("嵊州市", "甘霖镇", ["东王", "苍岩", "施家岙", "上杜山", "黄箭坂"]),
        ("诸暨市", "枫桥镇", ["杜黄", "钟瑛", "栎桥", "新峰", "乐山坞"]),
        ("临安区", "昌化镇", ["石铺", "后营", "朱穴坞", "白牛", "双塘"]),
        ("浦江县", "虞宅乡", ["新光", "马岭", "利民", "智丰", "前明"]),
    ],
    "shift": [
        ("淳安县", "千岛湖镇", ["青溪", "龙门", "金竹牌", "珍珠", "宋家"]),
        ("天台县", "平桥镇", ["张思", "山头郑", "岭根", "长洋", "溪头"]),
        ("松阳县", "大东坝镇", ["竹源", "石仓", "蛟垄", "横樟", "茶排"]),
        ("文成县", "玉壶镇", ["外洋", "东头", "中樟", "吴坑", "底庄"]),
    ],
}

CAP_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CN_DIGITS = "〇一二三四五六七八九"


def capital_amount(n: int) -> str:
    """Integer yuan as capital numerals, e.g. 50000 -> 伍万元整, 32500 -> 叁万贰仟伍佰元整."""
    assert 0 < n < 100_000_000

    def four(x: int) -> str:
        units = ["仟", "佰", "拾", ""]
        digits = [x // 1000, x // 100 % 10, x // 10 % 10, x % 10]
        out, zero = "", False
        for d, u in zip(digits, units):
            if d == 0:
                zero = bool(out)
            else:
                if zero:
                    out += "零"
                    zero = False
                out += CAP_DIGITS[d] + u
        return out

    hi, lo = divmod(n, 10_000)
    s = ""
    if hi:
        s = four(hi) + "万"
        if lo and lo < 1000:
            s += "零"
    if lo:
        s += four(lo)
    return s + "元整"


def arabic_amount(n: int) -> str:
    return f"¥{n:,}.00"


def cn_date(y: int, m: int, d: int) -> str:
    def small(x: int) -> str:
        if x < 10:
            return "一二三四五六七八九"[x - 1]
        t, u = divmod(x, 10)
        return ("" if t == 1 else "一二三四五六七八九"[t - 1]) + "十" + ("" if u == 0 else "一二三四五六七八九"[u - 1])
    return "".join(CN_DIGITS[int(c)] for c in str(y)) + "年" + small(m) + "月" + small(d) + "日"


def id_number(rng, county_code: str, year: int) -> str:
    body = county_code + f"{year:04d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}{int(rng.integers(0, 1000)):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w for c, w in zip(body, weights))
    return body + "10X98765432"[s % 11]


COUNTY_CODES = {"余杭区": "330110", "德清县": "330521", "安吉县": "330523", "桐乡市": "330483",
                "嵊州市": "330683", "诸暨市": "330681", "临安区": "330112", "浦江县": "330726",
                "淳安县": "330127", "天台县": "331023", "松阳县": "331124", "文成县": "330328"}


@dataclass
class Person:
    name: str
    id: str
    phone: str
    age: int


@dataclass
class Ctx:
    rng: object
    split: str
    county: str
    town: str
    village: str
    p: list  # persons
    y: int
    m: int
    d: int
    amount: int
    area: str
    years: int
    extra: dict = field(default_factory=dict)

    # convenience ------------------------------------------------------------
    def pick(self, seq):
        return seq[int(self.rng.integers(0, len(seq)))]

    @property
    def vill(self) -> str:
        return self.village + "村"

    @property
    def coop(self) -> str:
        return f"{self.county}{self.town}{self.village}村股份经济合作社"

    @property
    def committee(self) -> str:
        return f"{self.village}村村民委员会"

    @property
    def branch(self) -> str:
        return f"中共{self.town}{self.village}村支部委员会"

    def date(self, cn: bool = False) -> str:
        return cn_date(self.y, self.m, self.d) if cn else f"{self.y}年{self.m}月{self.d}日"

    def date_zero(self) -> str:
        """The date in Chinese numerals written with 零 (二零二五年三月四日), as offices typing
        with GB2312 fonts (which lack 〇) print it."""
        return cn_date(self.y, self.m, self.d).replace("〇", "零")

    def later(self, years: int = 0, months: int = 0) -> str:
        m = self.m + months
        y = self.y + years + (m - 1) // 12
        m = (m - 1) % 12 + 1
        return f"{y}年{m}月{min(self.d, 28)}日"


def make_ctx(rng, split: str) -> Ctx:
    county, town, villages = PLACES[split][int(rng.integers(0, len(PLACES[split])))]
    village = villages[int(rng.integers(0, len(villages)))]
    persons = []
    used = []
    while len(persons) < 4:
        name = SURNAMES[int(rng.integers(0, len(SURNAMES)))] + GIVEN[split][int(rng.integers(0, len(GIVEN[split])))]
        if name in used:
            continue
        used.append(name)
        year = int(rng.integers(1955, 2000))
        phone = "1" + "3456789"[int(rng.integers(0, 7))] + "".join(str(int(x)) for x in rng.integers(0, 10, 9))
        persons.append(Person(name, id_number(rng, COUNTY_CODES[county], year), phone, 2025 - year))
    amount = int(rng.choice([8000, 12000, 15600, 23000, 28500, 36000, 45000, 50000, 62800, 75000,
                             86000, 120000, 138000, 250000, 316000, 480000]))
    area = f"{int(rng.integers(2, 60))}.{int(rng.integers(0, 10))}"
    return Ctx(rng, split, county, town, village, persons, int(rng.integers(2024, 2027)),
               int(rng.integers(1, 13)), int(rng.integers(1, 29)), amount, area, int(rng.integers(2, 11)))


@dataclass
class Doc:
    template: str
    kind: str
    blocks: list  # [(style, text)]
    org: str      # the organisation whose seal is pressed

    def text(self) -> str:
        return "\n".join(t for _, t in self.blocks)


def amt(c: Ctx, n: int | None = None) -> str:
    n = c.amount if n is None else n
    return f"人民币{capital_amount(n)}（{arabic_amount(n)}）"


def amtw(c: Ctx, n: int | None = None) -> str:
    """`shift`'s amounts: the full-width yuan sign ￥ (GB2312 fonts have no ¥)."""
    n = c.amount if n is None else n
    return f"人民币{capital_amount(n)}（￥{n:,}.00）"


# ---------------------------------------------------------------------------
# Templates.  Suffix _a/_c -> tune, _b -> test, _d -> shift.
# ---------------------------------------------------------------------------

def cert_residence_a(c: Ctx) -> Doc:
    a = c.p[0]
    return Doc("cert_residence_a", "certificate", [
        ("title", "居住证明"),
        ("para", f"兹证明{a.name}，身份证号码{a.id}，系我村村民，自{c.y - int(c.rng.integers(3, 30))}年起一直居住在{c.county}{c.town}{c.vill}{int(c.rng.integers(1, 12))}组{int(c.rng.integers(1, 90))}号，至今未曾迁出。"),
        ("para", f"该同志在本村居住期间遵纪守法，无违法违纪记录。本证明用于办理子女入学手续，有效期至{c.later(months=3)}。"),
        ("para", "特此证明。"),
        ("para", f"经办人：{c.p[1].name}　联系电话：{c.p[1].phone}"),
        ("sign", c.committee),
        ("date", c.date()),
    ], c.committee)


def cert_residence_c(c: Ctx) -> Doc:
    a = c.p[0]
    return Doc("cert_residence_c", "certificate", [
        ("title", "证　明"),
        ("salutation", f"{c.county}公安分局{c.town}派出所："),
        ("para", f"我村村民{a.name}（身份证号：{a.id}，联系电话：{a.phone}），现年{a.age}岁，户籍地为本村，实际居住于本村{c.pick(['前村', '后山', '溪边', '新村'])}自然村，居住时间已满{int(c.rng.integers(2, 20))}年。"),
        ("para", f"该户现有家庭成员{int(c.rng.integers(2, 7))}人，房屋为自建房，建筑面积{int(c.rng.integers(90, 320))}平方米。"),
        ("para", f"本证明仅用于办理居住登记，不作他用，自开具之日起{c.pick(['三十', '六十', '九十'])}日内有效。"),
        ("para", "特此证明。"),
        ("sign", c.committee),
        ("date", c.date(cn=True)),
    ], c.committee)


def cert_residence_b(c: Ctx) -> Doc:
    a, b = c.p[0], c.p[1]
    return Doc("cert_residence_b", "certificate", [
        ("title", "户籍及居住情况证明"),
        ("salutation", "致有关单位："),
        ("para", f"{a.name}，男，{a.age}岁，公民身份号码{a.id}，户籍所在地{c.county}{c.town}{c.vill}。经村委会核实，其与配偶{b.name}（身份证号{b.id}）长期共同居住于本村第{int(c.rng.integers(1, 9))}村民小组。"),
        ("para", f"其现住房于{c.y - int(c.rng.integers(2, 25))}年建成，经村民代表会议确认，权属清楚，无争议。"),
        ("para", f"本证明用于办理不动产登记，有效期限为{c.pick(['叁个月', '陆个月'])}，复印无效。"),
        ("para", f"村联系人：{c.p[2].name}，电话{c.p[2].phone}。"),
        ("sign", c.committee),
        ("date", c.date(cn=True)),
    ], c.committee)


def cert_family_a(c: Ctx) -> Doc:
    a = c.p[0]
    inc = c.amount if c.amount < 60000 else c.amount // 4
    return Doc("cert_family_a", "certificate", [
        ("title", "家庭经济情况证明"),
        ("para", f"兹有我村村民{a.name}，身份证号{a.id}，家庭人口{int(c.rng.integers(2, 6))}人。其家庭主要收入来源为务农及零星务工，{c.y - 1}年家庭年总收入为{amt(c, inc)}，人均年收入低于当地平均水平。"),
        ("para", f"其父{c.p[1].name}患有慢性疾病，常年用药，家庭负担较重，生活较为困难。"),
        ("para", f"以上情况经村两委集体研究并公示{int(c.rng.integers(5, 8))}天，情况属实。本证明用于申请助学金，有效期至{c.later(months=6)}。"),
        ("para", "特此证明。"),
        ("sign", c.committee),
        ("date", c.date()),
    ], c.committee)


def cert_family_b(c: Ctx) -> Doc:
    a = c.p[0]
    inc = c.amount if c.amount < 60000 else c.amount // 5
    return Doc("cert_family_b", "certificate", [
        ("title", "家庭情况证明"),
        ("salutation", f"{c.town}社会事务办公室："),
        ("para", f"经我村调查核实，村民{a.name}（公民身份号码：{a.id}）一家共{int(c.rng.integers(3, 7))}口人，其中劳动力{int(c.rng.integers(1, 3))}人，承包耕地{c.area}亩。"),
        ("para", f"{c.y - 1}年该户因{c.pick(['房屋受台风损毁', '家庭成员重病住院', '主要劳动力意外受伤'])}，支出医疗及修缮费用合计{amt(c, inc)}，目前尚有欠款未还。"),
        ("para", f"该户申请临时救助，村委会经民主评议同意上报。本证明有效期{c.pick(['叁拾日', '陆拾日'])}，联系人{c.p[2].name}，电话{c.p[2].phone}。"),
        ("sign", c.committee),
        ("date", c.date()),
    ], c.committee)


def contract_land_a(c: Ctx) -> Doc:
    b = c.p[0]
    price = int(c.rng.choice([600, 750, 800, 900, 1000, 1200]))
    return Doc("contract_land_a", "contract", [
        ("title", "农村土地经营权流转合同"),
        ("field", f"甲方（流出方）：{c.coop}"),
        ("field", f"乙方（流入方）：{b.name}　身份证号：{b.id}"),
        ("field", f"乙方联系电话：{b.phone}"),
        ("para", "根据《中华人民共和国农村土地承包法》等有关规定，甲乙双方本着平等、自愿、有偿的原则，经协商一致，订立本合同。"),
        ("para", f"一、甲方将位于本村{c.pick(['东畈', '西畈', '南湾', '北坞'])}的耕地{c.area}亩流转给乙方，用于{c.pick(['水稻种植', '茶叶种植', '苗木培育', '蔬菜种植'])}。"),
        ("para", f"二、流转期限{c.years}年，自{c.date()}起至{c.later(years=c.years)}止。"),
        ("para", f"三、流转费用每亩每年{price}元，年流转费合计{amt(c)}，乙方于每年{int(c.rng.integers(1, 13))}月{int(c.rng.integers(1, 29))}日前一次性付清。"),
        ("para", "四、乙方不得改变土地的农业用途，不得在流转土地上建设永久性建筑物。"),
        ("para", "五、合同期满，乙方在同等条件下享有优先续租权。本合同一式三份，甲乙双方各执一份，村委会备案一份。"),
        ("sign_left", "甲方（盖章）："),
        ("sign", f"乙方（签字）：{b.name}"),
        ("date", f"签订日期：{c.date()}"),
    ], c.coop)


def contract_land_c(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_land_c", "contract", [
        ("title", "土地承包经营权流转协议"),
        ("field", f"出让方（甲方）：{c.p[1].name}，身份证号：{c.p[1].id}"),
        ("field", f"受让方（乙方）：{b.name}，身份证号：{b.id}"),
        ("field", f"鉴证方：{c.coop}"),
        ("para", f"第一条　甲方自愿将其承包的{c.vill}第{int(c.rng.integers(1, 10))}组责任田{c.area}亩的经营权流转给乙方。"),
        ("para", f"第二条　流转期限自{c.date()}至{c.later(years=c.years)}，共{c.years}年。"),
        ("para", f"第三条　流转价款总额为{amt(c)}，乙方应在本协议签订后{int(c.rng.integers(5, 31))}日内支付首期价款。"),
        ("para", "第四条　流转期间国家发放的耕地地力保护补贴归甲方所有。"),
        ("para", "第五条　任何一方违约，应向对方支付流转价款总额百分之二十的违约金。"),
        ("para", f"甲方电话：{c.p[1].phone}　乙方电话：{b.phone}"),
        ("sign_left", f"甲方：{c.p[1].name}"),
        ("sign", f"乙方：{b.name}"),
        ("date", c.date()),
    ], c.coop)


def contract_land_b(c: Ctx) -> Doc:
    b = c.p[0]
    price = int(c.rng.choice([650, 700, 850, 950, 1100]))
    return Doc("contract_land_b", "contract", [
        ("title", "村集体土地流转合同书"),
        ("field", f"发包方（甲方）：{c.coop}"),
        ("field", f"法定代表人：{c.p[2].name}"),
        ("field", f"承包方（乙方）：{b.name}，公民身份号码{b.id}，手机{b.phone}"),
        ("para", f"经{c.vill}村民代表大会讨论通过，甲方将村集体所有的{c.pick(['山林', '旱地', '水塘', '果园'])}{c.area}亩发包给乙方经营。"),
        ("para", f"（一）承包期限：{c.years}年，从{c.date()}起算。"),
        ("para", f"（二）承包金：每亩每年{price}元，每年承包金合计{amt(c)}，按年度预交。"),
        ("para", "（三）乙方应合理利用土地，保护生态环境，不得擅自转包、抵押或改变用途。"),
        ("para", "（四）因国家建设征收土地的，地上附着物补偿款归乙方，土地补偿款归甲方。"),
        ("para", "（五）本合同经双方签字盖章并经镇农经站鉴证后生效。"),
        ("sign_left", "甲方（公章）："),
        ("sign", f"乙方（签名）：{b.name}"),
        ("date", c.date(cn=True)),
    ], c.coop)


def contract_lease_a(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_lease_a", "contract", [
        ("title", "房屋租赁合同"),
        ("field", f"出租方（甲方）：{c.coop}"),
        ("field", f"承租方（乙方）：{b.name}　身份证号码：{b.id}"),
        ("para", f"一、甲方将坐落于{c.vill}{c.pick(['文化礼堂东侧', '老村部', '集贸市场', '村口'])}的集体用房{int(c.rng.integers(2, 9))}间（建筑面积{int(c.rng.integers(40, 400))}平方米）出租给乙方作{c.pick(['农产品仓库', '小超市', '来料加工点', '快递网点'])}使用。"),
        ("para", f"二、租赁期限为{c.years}年，自{c.date()}起至{c.later(years=c.years)}止。"),
        ("para", f"三、年租金为{amt(c)}，乙方应于每年{int(c.rng.integers(1, 13))}月底前缴纳当年租金。"),
        ("para", f"四、乙方应于签订合同时交纳押金{amt(c, 5000)}，合同期满无违约的予以退还。"),
        ("para", "五、租赁期间水电费、卫生费由乙方承担，乙方不得将房屋转租他人。"),
        ("para", f"乙方联系电话：{b.phone}"),
        ("sign_left", "甲方（盖章）："),
        ("sign", "乙方（签字）："),
        ("date", c.date()),
    ], c.coop)


def contract_lease_b(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_lease_b", "contract", [
        ("title", "厂房场地租赁协议"),
        ("field", f"甲方：{c.coop}"),
        ("field", f"乙方：{b.name}（身份证号{b.id}）"),
        ("field", f"乙方电话：{b.phone}"),
        ("para", f"第一条　甲方将位于{c.town}{c.vill}工业功能区的标准厂房一幢，占地{c.area}亩，出租给乙方用于{c.pick(['竹制品加工', '纺织品仓储', '农机维修', '茶叶加工'])}。"),
        ("para", f"第二条　租期{c.years}年，起租日为{c.date()}。"),
        ("para", f"第三条　租金每年{amt(c)}，每半年支付一次，逾期超过三十日的甲方有权解除协议。"),
        ("para", "第四条　乙方须遵守安全生产和环境保护法规，因乙方原因造成的损失由乙方承担。"),
        ("para", "第五条　协议期满乙方应将厂房恢复原状交还甲方。"),
        ("sign_left", "甲方（盖章）："),
        ("sign", f"乙方：{b.name}"),
        ("date", c.date(cn=True)),
    ], c.coop)


def contract_works_a(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_works_a", "contract", [
        ("title", "村级小型工程施工合同"),
        ("field", f"发包人：{c.committee}"),
        ("field", f"承包人：{b.name}　身份证号：{b.id}　电话：{b.phone}"),
        ("para", f"工程名称：{c.vill}{c.pick(['机耕路硬化工程', '村道拓宽工程', '沟渠改造工程', '文化礼堂修缮工程'])}。"),
        ("para", f"工程内容：长度约{int(c.rng.integers(150, 2000))}米，宽{int(c.rng.integers(3, 7))}米，具体以施工图纸为准。"),
        ("para", f"合同价款：{amt(c)}，包工包料。工程竣工验收合格后付至合同价款的百分之九十五，余款作为质保金一年后付清。"),
        ("para", f"工期：自{c.date()}开工，{int(c.rng.integers(30, 120))}日历天内完工。"),
        ("para", "承包人应严格按照规范施工，确保工程质量和施工安全，施工期间发生的安全事故由承包人负责。"),
        ("sign_left", "发包人（盖章）："),
        ("sign", "承包人（签字）："),
        ("date", c.date()),
    ], c.committee)


def contract_works_b(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_works_b", "contract", [
        ("title", "工程承包协议书"),
        ("field", f"甲方：{c.committee}（负责人{c.p[2].name}）"),
        ("field", f"乙方：{b.name}，身份证{b.id}，联系电话{b.phone}"),
        ("para", f"一、工程项目：{c.vill}{c.pick(['山塘清淤加固', '饮用水管网改造', '公厕新建', '溪道护岸砌石'])}项目，地点位于本村{int(c.rng.integers(1, 9))}组。"),
        ("para", f"二、承包方式及价款：乙方包工包料，工程总价{amt(c)}，结算以审计为准。"),
        ("para", f"三、付款方式：开工后付{c.pick(['百分之三十', '百分之二十'])}，验收合格后付至百分之九十，余款一年后无质量问题付清。"),
        ("para", f"四、工期{int(c.rng.integers(20, 90))}天，自{c.date()}起算，每延误一天扣除工程款{int(c.rng.integers(2, 10)) * 100}元。"),
        ("para", "五、乙方须为施工人员购买意外伤害保险，施工中的一切安全责任由乙方承担。"),
        ("sign_left", "甲方（盖章）："),
        ("sign", "乙方（签字）："),
        ("date", c.date(cn=True)),
    ], c.committee)


def intro_a(c: Ctx) -> Doc:
    n = int(c.rng.integers(1, 4))
    names = "、".join(x.name for x in c.p[:n])
    return Doc("intro_a", "introduction", [
        ("title", "介绍信"),
        ("salutation", f"{c.county}{c.pick(['自然资源和规划局', '农业农村局', '人力资源和社会保障局', '不动产登记中心'])}："),
        ("para", f"兹介绍我村{names}等{CAP_DIGITS[n]}名同志（身份证号：{c.p[0].id}）前往贵单位联系办理{c.pick(['宅基地审批', '土地确权登记', '社保补缴', '不动产登记'])}事宜，请予接洽为盼。"),
        ("para", f"联系电话：{c.p[0].phone}"),
        ("para", "此致"),
        ("para", "敬礼！"),
        ("sign", c.branch),
        ("date", c.date()),
        ("para", f"（有效期{c.pick(['柒', '拾', '拾伍'])}天）"),
    ], c.branch)


def intro_c(c: Ctx) -> Doc:
    return Doc("intro_c", "introduction", [
        ("title", "介　绍　信"),
        ("salutation", f"{c.town}人民政府："),
        ("para", f"今介绍我村党支部委员{c.p[0].name}同志（联系电话{c.p[0].phone}）前来你处汇报{c.pick(['村级集体经济发展情况', '美丽乡村建设项目', '防汛防台工作'])}，并领取{c.y}年度相关补助资金申报材料。"),
        ("para", f"该同志身份证号码为{c.p[0].id}，请接洽。"),
        ("para", "此致敬礼！"),
        ("sign", c.branch),
        ("date", c.date(cn=True)),
    ], c.branch)


def intro_b(c: Ctx) -> Doc:
    return Doc("intro_b", "introduction", [
        ("title", "单位介绍信"),
        ("salutation", f"{c.pick(['国家税务总局', '中国农业银行', '浙江农商银行'])}{c.county}{c.pick(['支行', '分局', '营业部'])}："),
        ("para", f"兹有我社{c.pick(['会计', '出纳', '报账员'])}{c.p[0].name}（身份证号{c.p[0].id}），前来贵处办理{c.coop}{c.pick(['账户变更', '开户', '年度对账', '发票领用'])}业务，望予办理。"),
        ("para", f"经办人联系电话：{c.p[0].phone}。本介绍信有效期至{c.later(months=1)}。"),
        ("para", "此致敬礼"),
        ("sign", c.coop),
        ("date", c.date()),
    ], c.coop)


def minutes_a(c: Ctx) -> Doc:
    n = int(c.rng.integers(25, 60))
    m = n - int(c.rng.integers(0, 5))
    return Doc("minutes_a", "minutes", [
        ("title", f"{c.vill}村民代表会议纪要"),
        ("para", f"时间：{c.date()}　地点：{c.vill}文化礼堂　主持人：{c.p[0].name}"),
        ("para", f"应到村民代表{n}人，实到{m}人，符合法定人数。镇联村干部{c.p[1].name}列席会议。"),
        ("para", f"会议审议了{c.vill}{c.y}年度集体资产出租方案，同意将村集体用房以{amt(c)}的年租金对外公开招租，租期{c.years}年。"),
        ("para", f"会议同意由村股份经济合作社负责组织招租工作，招租结果在村务公开栏公示不少于{int(c.rng.integers(5, 10))}天。"),
        ("para", f"表决结果：同意{m - 2}票，反对1票，弃权1票，方案获得通过。"),
        ("para", f"记录人：{c.p[2].name}"),
        ("sign", c.committee),
        ("date", c.date()),
    ], c.committee)


def minutes_c(c: Ctx) -> Doc:
    return Doc("minutes_c", "minutes", [
        ("title", f"{c.vill}党支部委员会会议记录"),
        ("para", f"会议时间：{c.date()}　参会人员：{c.p[0].name}、{c.p[1].name}、{c.p[2].name}、{c.p[3].name}"),
        ("para", f"一、学习传达了{c.town}党委关于做好{c.pick(['秋冬季森林防火', '农村人居环境整治', '低收入农户帮扶'])}工作的通知精神。"),
        ("para", f"二、研究了本村{c.pick(['道路亮化', '垃圾分类站建设', '文化礼堂提升'])}项目资金安排，会议同意安排村集体资金{amt(c)}用于该项目。"),
        ("para", f"三、会议确定由{c.p[1].name}同志负责项目日常管理，每月向支委会报告一次进度。"),
        ("para", f"记录人：{c.p[3].name}"),
        ("sign", c.branch),
        ("date", c.date(cn=True)),
    ], c.branch)


def minutes_b(c: Ctx) -> Doc:
    return Doc("minutes_b", "minutes", [
        ("title", "股份经济合作社成员代表大会决议"),
        ("para", f"{c.coop}于{c.date()}召开成员代表大会，应到代表{int(c.rng.integers(30, 70))}名，实到代表超过三分之二。"),
        ("para", f"大会听取了理事长{c.p[0].name}所作的{c.y - 1}年度财务收支情况报告，经审议，全体代表一致同意{c.y - 1}年度收益分配方案，分红总额{amt(c)}。"),
        ("para", f"大会同意监事会{c.p[1].name}提出的关于加强集体资产管理的建议，责成理事会在{int(c.rng.integers(1, 4))}个月内完成资产清查。"),
        ("para", "本决议自通过之日起生效，由理事会负责组织实施，监事会负责监督。"),
        ("sign", c.coop),
        ("date", c.date(cn=True)),
    ], c.coop)


def report_a(c: Ctx) -> Doc:
    return Doc("report_a", "report", [
        ("title", f"关于申请{c.vill}{c.pick(['农村公路养护', '山塘水库除险加固', '污水管网维修'])}补助资金的请示"),
        ("salutation", f"{c.town}人民政府："),
        ("para", f"我村现有{c.pick(['村道', '山塘', '管网'])}多处年久失修，{c.y}年汛期受强降雨影响，损毁情况加重，严重影响村民出行和生产生活安全。"),
        ("para", f"经村两委研究并请专业单位测算，修复工程总投资约{amt(c)}，其中村集体自筹{int(c.rng.integers(20, 50))}%，其余部分恳请镇政府给予补助。"),
        ("para", f"项目联系人：{c.p[0].name}，联系电话：{c.p[0].phone}。"),
        ("para", "妥否，请批示。"),
        ("sign", c.committee),
        ("date", c.date()),
    ], c.committee)


def report_c(c: Ctx) -> Doc:
    return Doc("report_c", "report", [
        ("title", f"{c.vill}{c.y}年上半年工作情况报告"),
        ("para", f"今年以来，{c.vill}在{c.town}党委政府的正确领导下，围绕共同富裕目标，扎实推进各项工作，取得了一定成效。"),
        ("para", f"一是集体经济稳步增长。上半年村集体经营性收入{amt(c)}，同比增长{int(c.rng.integers(5, 30))}%。"),
        ("para", f"二是人居环境持续改善。完成{int(c.rng.integers(10, 90))}户庭院整治，新建垃圾分类亭{int(c.rng.integers(2, 9))}座。"),
        ("para", "三是基层治理不断加强。全面落实网格化管理，上半年共调处矛盾纠纷十余起，未发生群体性事件。"),
        ("para", "下半年，我村将继续抓好项目建设和安全生产，确保完成全年目标任务。"),
        ("sign", c.branch),
        ("date", c.date(cn=True)),
    ], c.branch)


def report_b(c: Ctx) -> Doc:
    return Doc("report_b", "report", [
        ("title", f"关于{c.vill}集体资产处置情况的报告"),
        ("salutation", f"{c.town}农业农村办公室："),
        ("para", f"根据镇农经站关于规范农村集体资产处置的要求，我社对原{c.pick(['村办茶厂', '老粮站', '村小学旧校舍'])}资产进行了清查评估，评估价值为{amt(c)}。"),
        ("para", f"该资产已于{c.date()}经成员代表会议表决同意，通过镇农村产权交易平台公开拍卖，最终由{c.p[0].name}竞得，成交价款已全额入账。"),
        ("para", f"处置过程全程公开，相关资料已归档备查。联系人{c.p[1].name}，电话{c.p[1].phone}。"),
        ("para", "特此报告。"),
        ("sign", c.coop),
        ("date", c.date()),
    ], c.coop)


# `shift` templates (_d): used by no other split. Amounts with ￥ and dates with 零, so that
# every character has a glyph in the GB2312 faces `shift` prints with.

def cert_residence_d(c: Ctx) -> Doc:
    a = c.p[0]
    return Doc("cert_residence_d", "certificate", [
        ("title", "实际居住证明"),
        ("salutation", f"{c.county}教育局："),
        ("para", f"{a.name}，公民身份号码{a.id}，联系电话{a.phone}。该户户籍登记在{c.town}{c.vill}，其本人及子女自{c.y - int(c.rng.integers(2, 15))}年{int(c.rng.integers(1, 13))}月起实际居住在本村{c.pick(['上屋', '下屋', '塘边', '岭脚'])}自然村{int(c.rng.integers(1, 80))}号。"),
        ("para", f"经村委会入户走访核实，该户在本村有自有住房一处，建筑面积{int(c.rng.integers(80, 260))}平方米，长期在此居住，情况属实。"),
        ("para", f"本证明仅供其子女办理{c.y}年秋季入学手续使用，有效期至{c.later(months=2)}，涂改无效。"),
        ("para", f"村委会经办人：{c.p[1].name}，电话：{c.p[1].phone}。"),
        ("sign", c.committee),
        ("date", c.date_zero()),
    ], c.committee)


def cert_kinship_d(c: Ctx) -> Doc:
    a, b = c.p[0], c.p[1]
    rel = c.pick(["父子", "母女", "母子", "父女", "祖孙"])
    return Doc("cert_kinship_d", "certificate", [
        ("title", "亲属关系证明"),
        ("salutation", "致有关单位："),
        ("para", f"兹证明{a.name}（身份证号：{a.id}）与{b.name}（身份证号：{b.id}）系{rel}关系，两人户籍均在{c.county}{c.town}{c.vill}第{int(c.rng.integers(1, 9))}村民小组。"),
        ("para", f"{b.name}因{c.pick(['在外地务工', '年老行动不便', '长期住院治疗'])}，无法亲自前往办理，现委托{a.name}代为办理{c.pick(['养老保险待遇领取', '征地补偿款领取', '医疗费用报销'])}相关手续。"),
        ("para", f"以上情况经村委会调查核实，并在村务公开栏公示{int(c.rng.integers(3, 8))}日，无异议。本证明自出具之日起{c.pick(['叁拾日', '陆拾日', '玖拾日'])}内有效。"),
        ("para", "特此证明。"),
        ("sign", c.committee),
        ("date", c.date()),
    ], c.committee)


def contract_land_d(c: Ctx) -> Doc:
    b = c.p[0]
    price = int(c.rng.choice([550, 680, 720, 880, 960, 1050]))
    return Doc("contract_land_d", "contract", [
        ("title", "农村土地承包经营权出租合同"),
        ("field", f"出租方（甲方）：{c.coop}"),
        ("field", f"承租方（乙方）：{b.name}，身份证号码：{b.id}，电话：{b.phone}"),
        ("para", f"为发展{c.pick(['高山蔬菜', '香榧', '油茶', '稻鱼共生'])}产业，甲乙双方依照有关法律法规，在平等协商的基础上，就土地出租事宜达成如下协议。"),
        ("para", f"第一条　甲方将{c.vill}{c.pick(['大畈', '后垄', '塘坞', '上坪'])}地块耕地{c.area}亩出租给乙方经营，四至界线以村委会现场确认的界桩为准。"),
        ("para", f"第二条　出租期限为{c.years}年，自{c.date()}起至{c.later(years=c.years)}止，期满后如需续租，双方另行协商。"),
        ("para", f"第三条　租金标准为每亩每年{price}元，全年租金合计{amtw(c)}，乙方应于每年{int(c.rng.integers(1, 13))}月{int(c.rng.integers(1, 29))}日前付清当年租金，逾期按日加收千分之三的滞纳金。"),
        ("para", "第四条　乙方不得改变土地的农业用途，不得弃耕抛荒，不得在出租土地上建设住宅或者永久性建筑。"),
        ("para", "第五条　本合同一式三份，甲乙双方各执一份，镇农业服务中心备案一份，自双方签字盖章之日起生效。"),
        ("sign_left", "甲方（盖章）："),
        ("sign", f"乙方（签名）：{b.name}"),
        ("date", f"签订时间：{c.date()}"),
    ], c.coop)


def contract_lease_d(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_lease_d", "contract", [
        ("title", "村集体店面租赁合同"),
        ("field", f"出租人（甲方）：{c.coop}"),
        ("field", f"承租人（乙方）：{b.name}"),
        ("field", f"乙方身份证号：{b.id}"),
        ("para", f"一、甲方将位于{c.town}{c.vill}{c.pick(['街路', '老街', '村委楼底层', '游客中心旁'])}的集体店面{int(c.rng.integers(1, 5))}间，建筑面积{int(c.rng.integers(30, 220))}平方米，出租给乙方经营{c.pick(['农家乐', '土特产销售', '便民超市', '民宿接待'])}。"),
        ("para", f"二、租赁期限{c.years}年，从{c.date()}开始计算。租金每年{amtw(c)}，先付后用，每年一付。"),
        ("para", f"三、乙方在签订本合同时向甲方交纳履约保证金{amtw(c, 3000)}，合同期满无违约行为的，甲方无息退还。"),
        ("para", "四、租赁期间，乙方应依法经营，按时缴纳水电等费用，未经甲方书面同意，不得转租、转借或改变房屋结构。"),
        ("para", "五、乙方逾期支付租金超过三十日的，甲方有权解除合同并收回店面，保证金不予退还。"),
        ("para", f"乙方联系电话：{b.phone}"),
        ("sign_left", "甲方（盖章）："),
        ("sign", f"乙方（签字）：{b.name}"),
        ("date", c.date_zero()),
    ], c.coop)


def contract_works_d(c: Ctx) -> Doc:
    b = c.p[0]
    return Doc("contract_works_d", "contract", [
        ("title", "村级工程项目施工合同书"),
        ("field", f"建设单位（甲方）：{c.committee}"),
        ("field", f"施工方（乙方）：{b.name}，身份证号码{b.id}"),
        ("para", f"工程名称：{c.vill}{c.pick(['溪滩公园步道', '田间机耕路', '村口停车场', '饮水工程蓄水池'])}建设工程，工程地点位于本村{int(c.rng.integers(1, 9))}组。"),
        ("para", f"工程规模：总长约{int(c.rng.integers(120, 1800))}米，平均宽度{int(c.rng.integers(2, 8))}米，按甲方提供的设计图纸施工。"),
        ("para", f"合同总价：{amtw(c)}，为固定总价，包含材料、人工、机械及税费，施工中如有设计变更，按实结算。"),
        ("para", f"工期要求：{c.date()}进场施工，{int(c.rng.integers(25, 100))}日内竣工，每逾期一日，乙方向甲方支付违约金{int(c.rng.integers(2, 9)) * 100}元。"),
        ("para", f"付款方式：工程竣工验收合格后支付合同价款的百分之{c.pick(['八十', '九十'])}，审计结束后付至百分之九十七，余款作为质保金于一年后结清。"),
        ("para", "安全责任：乙方负责施工现场的安全管理，施工期间发生的一切安全事故由乙方承担全部责任。"),
        ("sign_left", "甲方（盖章）："),
        ("sign", "乙方（签字）："),
        ("date", c.date_zero()),
    ], c.committee)


def intro_d(c: Ctx) -> Doc:
    return Doc("intro_d", "introduction", [
        ("title", "介绍信"),
        ("salutation", f"{c.county}{c.pick(['公共资源交易中心', '林业局', '水利局', '民政局'])}："),
        ("para", f"兹介绍我村村民委员会主任{c.p[0].name}、会计{c.p[1].name}两位同志，前往贵单位办理{c.vill}{c.pick(['公益林补偿资金', '小型水库维修项目', '村级项目招标备案', '困难群众救助'])}相关事宜，请予接洽并给予支持。"),
        ("para", f"{c.p[0].name}同志身份证号码：{c.p[0].id}，手机：{c.p[0].phone}。"),
        ("para", f"本介绍信有效期至{c.later(months=1)}，过期作废。"),
        ("para", "此致"),
        ("para", "敬礼"),
        ("sign", c.committee),
        ("date", c.date_zero()),
    ], c.committee)


def minutes_d(c: Ctx) -> Doc:
    n = int(c.rng.integers(7, 12))
    return Doc("minutes_d", "minutes", [
        ("title", f"{c.vill}村两委联席会议纪要"),
        ("para", f"{c.date()}上午，{c.vill}在村便民服务中心召开村两委联席会议，应到{n}人，实到{n - int(c.rng.integers(0, 2))}人，会议由村党支部书记{c.p[0].name}主持。"),
        ("para", f"会议讨论了{c.vill}{c.pick(['红色旅游线路提升', '农村饮用水提标改造', '闲置农房盘活利用', '古树名木保护'])}项目实施方案，同意项目总投资控制在{amtw(c)}以内，资金由上级补助和村集体自筹解决。"),
        ("para", f"会议同意由{c.p[1].name}牵头成立项目工作小组，负责政策处理和质量监督，每半月向村两委报告一次工作进展。"),
        ("para", f"会议决定项目施工单位通过镇公共资源交易平台公开选定，结果在村务公开栏公示不少于{int(c.rng.integers(5, 10))}天。"),
        ("para", f"记录人：{c.p[2].name}"),
        ("sign", c.branch),
        ("date", c.date()),
    ], c.branch)


def report_d(c: Ctx) -> Doc:
    return Doc("report_d", "report", [
        ("title", f"关于{c.vill}{c.pick(['山体滑坡', '洪水冲毁道路', '房屋倒塌险情'])}灾后重建资金的申请"),
        ("salutation", f"{c.town}人民政府："),
        ("para", f"{c.y}年{int(c.rng.integers(5, 10))}月，受台风带来的持续强降雨影响，我村{c.pick(['东坑', '西岙', '后山', '外岙'])}自然村发生险情，造成{int(c.rng.integers(2, 15))}户农房受损，村道中断约{int(c.rng.integers(100, 900))}米，所幸无人员伤亡。"),
        ("para", f"灾情发生后，村两委第一时间组织群众转移，并对受损情况进行了逐户登记，经初步核算，灾后恢复重建共需资金{amtw(c)}。"),
        ("para", f"由于村集体经济薄弱，自筹资金困难，特申请镇政府给予补助，以便尽快恢复群众正常生产生活。联系人：{c.p[0].name}，电话：{c.p[0].phone}。"),
        ("para", "当否，请批示。"),
        ("sign", c.committee),
        ("date", c.date_zero()),
    ], c.committee)


TEMPLATES = {
    "tune": [cert_residence_a, cert_residence_c, cert_family_a, contract_land_a, contract_land_c,
             contract_lease_a, contract_works_a, intro_a, intro_c, minutes_a, minutes_c,
             report_a, report_c],
    "test": [cert_residence_b, cert_family_b, contract_land_b, contract_lease_b,
             contract_works_b, intro_b, minutes_b, report_b],
    "shift": [cert_residence_d, cert_kinship_d, contract_land_d, contract_lease_d,
              contract_works_d, intro_d, minutes_d, report_d],
}

# Clauses a forger might add, per kind.
ADDED_CLAUSES = {
    "certificate": ["本证明同时可作为申请银行贷款及担保的依据。",
                    "该同志名下另有本村宅基地一处，权属无争议。",
                    "经核实，该户符合本年度低保救助条件。"],
    "contract": ["乙方有权将该土地转包或转租给第三方，无需另行征得甲方同意。",
                 "甲方同意在合同期内免收乙方第一年费用。",
                 "合同期满后，乙方在流转土地上所建的附属设施归乙方所有。",
                 "如遇征收，全部补偿款归乙方所有。"],
    "introduction": ["同时请贵单位协助办理相关款项的领取手续。",
                     "该同志有权代表我村签署相关协议。"],
    "minutes": ["会议同时同意向理事长个人预支工作经费贰万元整。",
                "会议决定本项目不再进行公开招标，直接委托施工。"],
    "report": ["另请一并拨付村干部误工补贴叁万元整。",
               "该项目已由本村自行确定施工单位，无需招投标。"],
}

# Words a forger might swap (only swaps whose source occurs in the text are used).
WORD_SWAPS = [("同意", "不同意"), ("不得", "可以"), ("甲方", "乙方"), ("九十五", "八十五"),
              ("三十", "五十"), ("公开", "内部"), ("属实", "不实"), ("农业", "工业"),
              ("每年", "每月"), ("押金", "定金"), ("村民", "居民"), ("归甲方", "归乙方"),
              ("有效期", "有效期满"), ("增长", "下降"), ("新建", "拆除"), ("确保", "争取"),
              ("一致同意", "多数同意"), ("全额", "部分"), ("拍卖", "协议转让"), ("承担", "不承担")]
