"""The columns of every import kind: header in Chinese and English (either is read), required or not, fixed values
(a drop-down in the template), an example and a note. Templates, exports and the reader are all made from this."""

from __future__ import annotations

from dataclasses import dataclass

from bot.documents.sheets import norm_header
from domain.models import OrderStatus, Role


@dataclass(frozen=True)
class Column:
    key: str  # the record field it fills
    zh: str
    en: str
    required: bool = False
    choices_zh: tuple[str, ...] = ()  # fixed values, shown as a drop-down
    choices_en: tuple[str, ...] = ()
    example: object = ""
    note_zh: str = ""
    note_en: str = ""
    aliases: tuple[str, ...] = ()

    def header(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en

    def choices(self, lang: str) -> tuple[str, ...]:
        return self.choices_zh if lang.startswith("zh") else (self.choices_en or self.choices_zh)

    def names(self) -> set[str]:
        return {norm_header(n) for n in (self.zh, self.en, self.key, *self.aliases)}


@dataclass(frozen=True)
class Kind:
    name: str
    sheet_zh: str
    sheet_en: str
    columns: tuple[Column, ...]
    intro_zh: str
    intro_en: str

    def sheet(self, lang: str) -> str:
        return self.sheet_zh if lang.startswith("zh") else self.sheet_en

    def column(self, key: str) -> Column:
        return self._by_key[key]

    @property
    def _by_key(self) -> dict[str, Column]:
        cached = _BY_KEY.get(self.name)
        if cached is None:
            cached = _BY_KEY[self.name] = {c.key: c for c in self.columns}
        return cached


_BY_KEY: dict[str, dict[str, Column]] = {}


YES_NO = (("是", "否"), ("Yes", "No"))
ROLE_WORDS = {Role.SALES: ("销售", "sales"), Role.SALES_MANAGER: ("销售经理", "sales manager"),
              Role.FINANCE: ("财务", "finance"), Role.WAREHOUSE: ("仓库", "warehouse"), Role.ADMIN: ("管理员", "admin")}
STATUS_WORDS = {OrderStatus.COMPLETED: ("已完成", "completed"), OrderStatus.SHIPPED: ("已发货", "shipped"),
                OrderStatus.CANCELLED: ("已取消", "cancelled"), OrderStatus.REJECTED: ("已驳回", "rejected")}
_DATES = ("日期写 2026-11-20、2026/11/20 或 Excel 日期", "a date: 2026-11-20, 2026/11/20 or an Excel date")
_MONEY = ("金额，两位小数，可带千位逗号", "an amount with up to 2 decimals; thousands commas are fine")

CUSTOMERS = Kind("customers", "客户", "Customers", (
    Column("code", "客户编码", "Customer code", True, example="C001", note_zh="唯一；再次导入时按编码更新",
           note_en="unique; a second import updates by code", aliases=("编码", "客户代码", "code")),
    Column("name", "客户名称", "Customer name", True, example="杭州华兴电子有限公司", aliases=("名称", "客户", "name")),
    Column("name_en", "英文名称", "English name", example="Hangzhou Huaxing Electronics"),
    Column("province", "省份", "Province", example="浙江", note_zh="就近发货的依据", note_en="picks the nearest warehouse",
           aliases=("省", "地区", "region")),
    Column("city", "城市", "City", example="杭州", aliases=("市",)),
    Column("address", "地址", "Address", example="文三路 1 号", aliases=("详细地址", "收货地址")),
    Column("contact_name", "联系人", "Contact", example="陈先生", aliases=("联系人姓名", "contact name", "联系人姓名")),
    Column("contact_phone", "联系电话", "Phone", example="13800000001", aliases=("电话", "手机", "联系人电话", "phone number")),
    Column("contact_email", "邮箱", "E-mail", example="chen@example.com", aliases=("电子邮箱", "email", "联系人邮箱")),
    Column("contact_role", "职务", "Contact role", example="采购", aliases=("联系人职务", "role")),
    Column("tier", "客户等级", "Tier", choices_zh=("A", "B", "C"), example="A", note_zh="决定价格（商品表的等级价）",
           note_en="selects the price (the products' tier prices)", aliases=("等级", "级别")),
    Column("credit_limit", "信用额度", "Credit limit", example=200000, note_zh=_MONEY[0], note_en=_MONEY[1], aliases=("额度",)),
    Column("payment_terms_days", "账期(天)", "Payment terms (days)", example=30, note_zh="0–365 天", note_en="0–365 days",
           aliases=("账期", "付款期限", "payment terms")),
    Column("sales", "负责销售", "Sales owner", example="li", note_zh="用户名或姓名", note_en="username or name",
           aliases=("销售", "业务员", "sales")),
    Column("tax_title", "开票抬头", "Invoice title", example="杭州华兴电子有限公司", aliases=("发票抬头", "tax title")),
    Column("tax_id", "纳税人识别号", "Tax ID", example="91330100MA27XXXX1A", aliases=("税号", "统一社会信用代码", "tax id")),
), "每行一个客户。", "One customer per row.")

PRODUCTS = Kind("products", "商品", "Products", (
    Column("sku", "商品编码", "SKU", True, example="SKU-001", note_zh="唯一；再次导入时按编码更新",
           note_en="unique; a second import updates by SKU", aliases=("sku", "编码", "货号", "产品编码")),
    Column("name", "商品名称", "Product name", True, example="不锈钢螺丝 M6", aliases=("名称", "品名", "name")),
    Column("name_en", "英文名称", "English name", example="Stainless screw M6"),
    Column("spec", "规格", "Spec", example="M6x20 304", aliases=("规格型号", "型号")),
    Column("unit", "单位", "Unit", example="盒", aliases=("计量单位",)),
    Column("list_price", "单价", "List price", True, example=120, note_zh=_MONEY[0], note_en=_MONEY[1],
           aliases=("标准价", "价格", "售价", "price")),
    Column("price_A", "A级价", "Tier A price", example=110, note_zh="留空 = 用单价", note_en="blank = the list price"),
    Column("price_B", "B级价", "Tier B price", example=""),
    Column("price_C", "C级价", "Tier C price", example=""),
    Column("safety_stock", "安全库存", "Safety stock", example=20, note_zh="可用低于它时提醒", note_en="alert when available falls below"),
    Column("active", "在售", "Active", choices_zh=YES_NO[0], choices_en=YES_NO[1], example="是",
           note_zh="否 = 停售（保留历史）", note_en="No = not sold any more (history kept)", aliases=("启用", "状态")),
), "每行一个商品。", "One product per row.")

WAREHOUSES = Kind("warehouses", "仓库", "Warehouses", (
    Column("code", "仓库编码", "Warehouse code", True, example="WH-SH", aliases=("编码", "code")),
    Column("name", "仓库名称", "Warehouse name", True, example="上海仓", aliases=("名称", "name")),
    Column("region", "服务地区", "Regions served", example="上海,江苏,浙江", note_zh="省份，用逗号分隔；这些省的订单优先从这里发",
           note_en="provinces, comma separated; their orders ship from here first", aliases=("地区", "region")),
), "每行一个仓库。", "One warehouse per row.")

STOCK = Kind("stock", "库存", "Stock", (
    Column("warehouse", "仓库", "Warehouse", True, example="WH-SH", note_zh="仓库编码或名称", note_en="warehouse code or name"),
    Column("sku", "商品编码", "SKU", True, example="SKU-001", aliases=("sku", "编码", "货号")),
    Column("on_hand", "在库数量", "On hand", True, example=3000, note_zh="导入后的在库数，记为期初或盘点", note_en="on hand after the "
           "import, booked as an opening or count movement", aliases=("在库", "库存", "数量", "quantity")),
), "每行一个仓库里的一个商品。", "One product in one warehouse per row.")

USERS = Kind("users", "用户", "Users", (
    Column("username", "用户名", "Username", True, example="li", note_zh="登录名，唯一", note_en="unique", aliases=("账号",)),
    Column("display_name", "姓名", "Name", True, example="李四", aliases=("名字", "name")),
    Column("roles", "角色", "Roles", True, example="销售", note_zh="销售、销售经理、财务、仓库、管理员，多个用逗号分隔",
           note_en="sales, sales manager, finance, warehouse, admin; several separated by commas", aliases=("岗位",)),
    Column("manager", "上级", "Manager", example="wang", note_zh="上级的用户名（审批升级给他）", note_en="the manager's username "
           "(escalations go there)"),
    Column("warehouse", "所属仓库", "Warehouse", example="", note_zh="仓库人员必填：仓库编码", note_en="warehouse staff: the code"),
    Column("locale", "语言", "Language", choices_zh=("zh-CN", "en"), example="zh-CN", aliases=("locale",)),
    Column("email", "邮箱", "E-mail", example="li@example.com", aliases=("电子邮箱", "email")),
    Column("mobile", "手机", "Mobile", example="13900000001", aliases=("手机号", "电话")),
    Column("dingtalk", "钉钉 ID", "DingTalk ID", example="", note_zh="钉钉 userid", note_en="DingTalk userid"),
    Column("wecom", "企业微信 ID", "WeCom ID", example="", note_zh="企业微信 UserID", note_en="WeCom UserID", aliases=("企微id",)),
    Column("slack", "Slack ID", "Slack ID", example="", note_zh="U 开头的 Slack 成员 ID", note_en="Slack member id (U…)"),
), "每行一个人。", "One person per row.")

RECEIVABLES = Kind("receivables", "期初应收", "Opening balances", (
    Column("customer", "客户编码", "Customer code", True, example="C001", aliases=("客户",)),
    Column("reference", "单据号", "Reference", True, example="INV-2026-0815", note_zh="旧系统的发票或单据号，唯一",
           note_en="the old system's invoice number; unique", aliases=("发票号", "单号", "invoice")),
    Column("amount", "未收金额", "Open amount", True, example=12800, note_zh=_MONEY[0], note_en=_MONEY[1], aliases=("金额", "amount")),
    Column("due_date", "到期日", "Due date", True, example="2026-12-31", note_zh=_DATES[0], note_en=_DATES[1], aliases=("到期日期",)),
), "每行一笔旧系统中尚未收回的应收款；它们出现在对账单、逾期提醒和信用额度中。",
    "One open receivable from the old system per row; they appear in statements, overdue reminders and credit checks.")

ORDERS = Kind("orders", "历史订单", "Order history", (
    Column("number", "订单号", "Order number", True, example="SO-20250105-0001", note_zh="同一订单的多行放在一起",
           note_en="keep the rows of one order together", aliases=("单号", "order no")),
    Column("order_date", "下单日期", "Order date", True, example="2025-01-05", note_zh=_DATES[0], note_en=_DATES[1],
           aliases=("日期", "date")),
    Column("customer", "客户编码", "Customer code", True, example="C001", aliases=("客户",)),
    Column("sales", "销售", "Sales", example="li", note_zh="留空 = 客户的负责销售", note_en="blank = the customer's sales owner"),
    Column("sku", "商品编码", "SKU", True, example="SKU-001", aliases=("sku", "货号")),
    Column("quantity", "数量", "Quantity", True, example=10, aliases=("qty",)),
    Column("unit_price", "单价", "Unit price", True, example=110, note_zh=_MONEY[0], note_en=_MONEY[1], aliases=("价格", "price")),
    Column("discount_pct", "折扣%", "Discount %", example=0, aliases=("折扣", "discount")),
    Column("status", "状态", "Status", choices_zh=tuple(z for z, _ in STATUS_WORDS.values()),
           choices_en=tuple(e for _, e in STATUS_WORDS.values()), example="已完成", note_zh="留空 = 已完成",
           note_en="blank = completed"),
    Column("notes", "备注", "Notes", example="", aliases=("说明",)),
), "每行一个订单行；同一订单号的行组成一个订单。历史订单不影响库存和应收。",
    "One order line per row; rows with the same number form one order. History changes neither stock nor receivables.")

KINDS: dict[str, Kind] = {k.name: k for k in (CUSTOMERS, PRODUCTS, WAREHOUSES, STOCK, USERS, RECEIVABLES, ORDERS)}
