"""The columns of every import kind: the header (an English msgid; its Chinese from the catalogue — a file may use
either, or an alias), required or not, fixed values (a drop-down in the template), an example and a note. Templates,
exports and the reader are all made from this."""

from __future__ import annotations

from dataclasses import dataclass

from bot import platforms
from bot.documents.sheets import norm_header
from bot.i18n import tr
from bot.i18n.labels import ORDER_STATUS
from domain.contacts import CONTACT_SLOTS, contact_field
from domain.messages import N_
from domain.models import OrderStatus


@dataclass(frozen=True)
class Column:
    key: str  # the record field it fills
    en: str  # the header: a msgid (English); the Chinese header is its translation
    required: bool = False
    choices: tuple[str, ...] = ()  # fixed values, shown as a drop-down
    words: bool = False  # the choices are words (msgids, shown in the reader's language), not codes like A/B/C
    example: object = ""
    note: str = ""  # a msgid
    aliases: str = ""  # other headers seen in companies' sheets, "|"-separated
    n: int | None = None  # a numbered column's number (contact 3's phone: 3), filled into its header

    def header(self, lang: str) -> str:
        return tr(lang, self.en) if self.n is None else tr(lang, self.en, n=self.n)

    def choice_words(self, lang: str) -> tuple[str, ...]:
        return tuple(tr(lang, c) for c in self.choices) if self.words else self.choices

    def names(self) -> set[str]:
        return {norm_header(n) for n in (self.header("en"), self.header("zh-CN"), self.key, *self.aliases.split("|")) if n}


@dataclass(frozen=True)
class Kind:
    name: str
    sheet_en: str  # msgid of the sheet's name
    columns: tuple[Column, ...]
    intro: str  # msgid
    notes: tuple[str, ...] = ()  # msgids: what the notes sheet says of this kind beyond the intro

    def sheet(self, lang: str) -> str:
        return tr(lang, self.sheet_en)

    def up_to(self, numbered: int) -> tuple[Column, ...]:
        """The columns with the numbered ones (contact 2 … CONTACT_SLOTS) up to `numbered`: a sheet shows as many
        as it needs, and a file may have any of them."""
        return tuple(c for c in self.columns if c.n is None or c.n <= numbered)

    def column(self, key: str) -> Column:
        return self.by_key[key]

    @property
    def by_key(self) -> dict[str, Column]:
        cached = _BY_KEY.get(self.name)
        if cached is None:
            cached = _BY_KEY[self.name] = {c.key: c for c in self.columns}
        return cached


_BY_KEY: dict[str, dict[str, Column]] = {}


YES_NO = (N_("Yes"), N_("No"))
STATUS_WORDS = {st: ORDER_STATUS[st] for st in (OrderStatus.COMPLETED, OrderStatus.SHIPPED, OrderStatus.CANCELLED,
                                                OrderStatus.REJECTED)}
_DATES = N_("a date: 2026-11-20, 2026/11/20 or an Excel date")
_MONEY = N_("an amount with up to 2 decimals; thousands commas are fine")

# Contact 2 … CONTACT_SLOTS: (part, header msgid, aliases), "{n}" the contact's number.
CONTACT_PARTS = (("name", N_("Contact {n}"), "联系人{n}|contact{n}"),
                 ("phone", N_("Phone {n}"), "电话{n}|手机{n}|phone{n}|mobile {n}"),
                 ("email", N_("E-mail {n}"), "电子邮箱{n}|邮箱{n}|email{n}|email {n}"),
                 ("role", N_("Contact role {n}"), "职务{n}|role{n}|role {n}"))
_CONTACT_2 = {"name": "王会计", "phone": "13800000002", "role": "财务"}
TEMPLATE_NUMBERED = 3  # contacts the template shows: enough to see the pattern

CUSTOMERS = Kind("customers", N_("Customers"), (
    Column("code", N_("Customer code"), True, example="C001", note=N_("unique; a second import updates by code"), aliases="编码|客户代码|code"),
    Column("name", N_("Customer name"), True, example="杭州华兴电子有限公司", aliases="名称|客户|name"),
    Column("name_en", N_("English name"), example="Hangzhou Huaxing Electronics"),
    Column("province", N_("Province"), example="浙江", note=N_("picks the nearest warehouse"),
           aliases="省|地区|region"),
    Column("city", N_("City"), example="杭州", aliases="市"),
    Column("address", N_("Address"), example="文三路 1 号", aliases="详细地址|收货地址"),
    Column("contact_name", N_("Contact"), example="陈先生", aliases="联系人姓名|contact name|联系人姓名"),
    Column("contact_phone", N_("Phone"), example="13800000001", aliases="电话|手机|联系人电话|phone number"),
    Column("contact_email", N_("E-mail"), example="chen@example.com", aliases="电子邮箱|email|联系人邮箱"),
    Column("contact_role", N_("Contact role"), example="采购", aliases="联系人职务|role"),
    Column("tier", N_("Tier"), choices=("A", "B", "C"), example="A", note=N_("selects the price (the products' tier prices)"), aliases="等级|级别"),
    Column("credit_limit", N_("Credit limit"), example=200000, note=_MONEY, aliases="额度"),
    Column("payment_terms_days", N_("Payment terms (days)"), example=30, note=N_("0–365 days"),
           aliases="账期|付款期限|payment terms"),
    Column("sales", N_("Sales owner"), example="li", note=N_("username or name"),
           aliases="销售|业务员|sales"),
    Column("tax_title", N_("Invoice title"), example="杭州华兴电子有限公司", aliases="发票抬头|tax title"),
    Column("tax_id", N_("Tax ID"), example="91330100MA27XXXX1A", aliases="税号|统一社会信用代码|tax id"),
    # A customer's further contacts, numbered as the customer card and chat number them (联系人3=…, phone 3=…): one row
    # per customer, so a customer's whole record is read, compared and reported as one row.
    *(Column(contact_field(n, part), label, example=_CONTACT_2.get(part, "") if n == 2 else "",
             aliases=aliases.format(n=n), n=n)
      for n in range(2, CONTACT_SLOTS + 1) for part, label, aliases in CONTACT_PARTS),
), N_("One customer per row."), (N_(
    "Up to {slots} contacts a customer: Contact, Phone, E-mail and Contact role are the first; Contact 2, Phone 2 … "
    "the second, and so on (add the columns of contacts 4 to {slots} when needed). When a contact's columns are in "
    "the file, they are that contact: blank cells remove it. Contacts whose columns are not in the file are kept. "
    "A CSV file carries contacts the same way."),))

PRODUCTS = Kind("products", N_("Products"), (
    Column("sku", N_("SKU"), True, example="SKU-001", note=N_("unique; a second import updates by SKU"), aliases="sku|编码|货号|产品编码"),
    Column("name", N_("Product name"), True, example="不锈钢螺丝 M6", aliases="名称|品名|name"),
    Column("name_en", N_("English name"), example="Stainless screw M6"),
    Column("spec", N_("Spec"), example="M6x20 304", aliases="规格型号|型号"),
    Column("unit", N_("Unit"), example="盒", aliases="计量单位"),
    Column("list_price", N_("List price"), True, example=120, note=_MONEY,
           aliases="标准价|价格|售价|price"),
    Column("price_A", N_("Tier A price"), example=110, note=N_("blank = the list price")),
    Column("price_B", N_("Tier B price"), example=""),
    Column("price_C", N_("Tier C price"), example=""),
    Column("safety_stock", N_("Safety stock"), example=20, note=N_("alert when available falls below")),
    Column("active", N_("Active"), choices=YES_NO, words=True, example=YES_NO[0],
           note=N_("No = not sold any more (history kept)"), aliases="启用|状态"),
), N_("One product per row."))

WAREHOUSES = Kind("warehouses", N_("Warehouses"), (
    Column("code", N_("Warehouse code"), True, example="WH-SH", aliases="编码|code"),
    Column("name", N_("Warehouse name"), True, example="上海仓", aliases="名称|name"),
    Column("region", N_("Regions served"), example="上海,江苏,浙江", note=N_("provinces, comma separated; their orders ship from here first"), aliases="地区|region"),
), N_("One warehouse per row."))

STOCK = Kind("stock", N_("Stock"), (
    Column("warehouse", N_("Warehouse"), True, example="WH-SH", note=N_("warehouse code or name")),
    Column("sku", N_("SKU"), True, example="SKU-001", aliases="sku|编码|货号"),
    Column("on_hand", N_("On hand"), True, example=3000, note=N_("on hand after the import, booked as an opening or count movement"),
           aliases="在库数量|在库|库存|数量|quantity"),
), N_("One product in one warehouse per row."))

ACCOUNTS = sorted(((p.name, p.account_column) for p in platforms.installed() if p.account_column and p.links_people),
                  key=lambda named: named[1].position)
USERS = Kind("users", N_("Users"), (
    Column("username", N_("Username"), True, example="li", note=N_("unique login name"), aliases="账号"),
    Column("display_name", N_("Name"), True, example="李四", aliases="名字|name"),
    Column("roles", N_("Roles"), True, example="销售", note=N_("sales, sales manager, finance, warehouse, admin; several separated by commas"), aliases="岗位"),
    Column("manager", N_("Manager"), example="wang", note=N_("the manager's username (escalations go there)")),
    Column("warehouse", N_("Their warehouse"), example="", note=N_("warehouse staff: the code"), aliases="所属仓库|warehouse"),
    Column("locale", N_("Language"), choices=("zh-CN", "en"), example="zh-CN", aliases="locale"),
    Column("email", N_("E-mail"), example="li@example.com", aliases="电子邮箱|email"),
    Column("mobile", N_("Mobile"), example="13900000001", aliases="手机号|电话"),
    # one column of account ids per installed platform that declares one (adapters/platform.py)
    *(Column(name, col.header, example="", note=col.note, aliases=col.aliases) for name, col in ACCOUNTS),
), N_("One person per row."))
ID_PLATFORMS = tuple(name for name, _ in ACCOUNTS)  # the users sheet's account-id columns, in its column order

RECEIVABLES = Kind("receivables", N_("Opening balances"), (
    Column("customer", N_("Customer code"), True, example="C001", aliases="客户"),
    Column("reference", N_("Reference"), True, example="INV-2026-0815", note=N_("the old system's invoice number; unique"), aliases="发票号|单号|invoice"),
    Column("amount", N_("Open amount"), True, example=12800, note=_MONEY, aliases="金额|amount"),
    Column("due_date", N_("Due date"), True, example="2026-12-31", note=_DATES, aliases="到期日期"),
), N_("One open receivable from the old system per row; they appear in statements, overdue reminders and credit checks."))

ORDERS = Kind("orders", N_("Order history"), (
    Column("number", N_("Order number"), True, example="SO-20250105-0001", note=N_("keep the rows of one order together"), aliases="单号|order no"),
    Column("order_date", N_("Order date"), True, example="2025-01-05", note=_DATES,
           aliases="日期|date"),
    Column("customer", N_("Customer code"), True, example="C001", aliases="客户"),
    Column("sales", N_("Sales"), example="li", note=N_("blank = the customer's sales owner")),
    Column("sku", N_("SKU"), True, example="SKU-001", aliases="sku|货号"),
    Column("quantity", N_("Quantity"), True, example=10, aliases="qty"),
    Column("unit_price", N_("Unit price"), True, example=110, note=_MONEY, aliases="价格|price"),
    Column("discount_pct", N_("Discount %"), example=0, aliases="折扣|discount"),
    Column("status", N_("Status"), choices=tuple(STATUS_WORDS.values()), words=True, example=STATUS_WORDS[OrderStatus.COMPLETED], note=N_("blank = completed")),
    Column("notes", N_("Notes"), example="", aliases="说明"),
), N_("One order line per row; rows with the same number form one order. History changes neither stock nor receivables."))

KINDS: dict[str, Kind] = {k.name: k for k in (CUSTOMERS, PRODUCTS, WAREHOUSES, STOCK, USERS, RECEIVABLES, ORDERS)}
