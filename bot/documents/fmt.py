"""Formatting shared by the documents: money, quantities, dates, and the zh-CN / en labels."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.documents.model import CENT

LOCALES = ("zh-CN", "en")


def normalize_locale(locale: str) -> str:
    """'zh-CN', 'zh_CN', 'zh', 'zh-Hans' → 'zh-CN'; 'en', 'en-US' … → 'en'. Anything else is refused."""
    tag = (locale or "").strip().replace("_", "-").lower()
    if tag == "zh" or tag.startswith("zh-"):
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    raise ValueError(f"unsupported locale {locale!r}; use one of {', '.join(LOCALES)}")


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (the way an accountant rounds, not banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal, symbol: str = "¥") -> str:
    """Decimal('12800') → '¥12,800.00'; negative → '-¥1,000.00'."""
    v = money(value)
    sign = "-" if v < 0 else ""
    return f"{sign}{symbol}{abs(v):,.2f}"


def format_amount(value: Decimal) -> str:
    """Money without a currency symbol, for table columns: '12,800.00'."""
    return f"{money(value):,.2f}"


def format_quantity(value: Decimal) -> str:
    """Decimal('10.000') → '10', Decimal('2.50') → '2.5', Decimal('12000') → '12,000'."""
    v = value.normalize()
    return f"{v:,f}"


def format_date(value: date) -> str:
    return value.strftime("%Y-%m-%d")


LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        # delivery note
        "delivery_note": "发货单",
        "note_number": "发货单号",
        "order_number": "订单号",
        "ship_date": "发货日期",
        "warehouse": "仓库",
        "carrier": "快递公司",
        "tracking_number": "物流单号",
        "customer": "客户",
        "customer_code": "客户编码",
        "address": "收货地址",
        "contact": "联系人",
        "phone": "电话",
        "no": "序号",
        "sku": "SKU",
        "product": "品名",
        "spec": "规格",
        "unit": "单位",
        "quantity": "数量",
        "total": "合计",
        "items": "共 {n} 项",
        "remarks": "备注",
        "shipper_sign": "发货人签字",
        "receiver_sign": "收货人签字",
        "sign_date": "日期",
        "receiver_note": "请当面验收，如有破损或数量不符请在备注中注明。",
        "page": "第 {page}/{pages} 页",
        # statement
        "statement": "对账单",
        "period": "对账期间",
        "as_of": "截至",
        "currency": "币种",
        "date": "日期",
        "type": "类型",
        "reference": "单号",
        "memo": "摘要",
        "debit": "借方(应收)",
        "credit": "贷方(收款)",
        "balance": "余额",
        "opening_balance": "期初余额",
        "closing_balance": "期末余额",
        "period_total": "本期合计",
        "ageing": "账龄分析",
        "ageing_heading": "账龄分析（截至 {date}）",
        "ageing_bucket": "账龄",
        "amount": "金额",
        "open_items": "未结应收明细",
        "due_date": "到期日",
        "days_overdue": "逾期天数",
        "no_open_items": "无未结应收款",
        "confirm_note": "请核对以上账目，如有不符请于收到后 7 日内与我们联系。",
        "customer_confirm": "客户确认(盖章)",
        "type.order": "订单",
        "type.shipment": "发货",
        "type.payment": "收款",
        "type.return": "退货",
        "type.adjustment": "调整",
        "type.opening": "期初应收",
        "bucket.0-30": "0–30 天",
        "bucket.31-60": "31–60 天",
        "bucket.61-90": "61–90 天",
        "bucket.90+": "90 天以上",
    },
    "en": {
        "delivery_note": "Delivery note",
        "note_number": "Note no.",
        "order_number": "Order no.",
        "ship_date": "Ship date",
        "warehouse": "Warehouse",
        "carrier": "Carrier",
        "tracking_number": "Tracking no.",
        "customer": "Customer",
        "customer_code": "Cust. code",
        "address": "Address",
        "contact": "Contact",
        "phone": "Phone",
        "no": "#",
        "sku": "SKU",
        "product": "Product",
        "spec": "Spec",
        "unit": "Unit",
        "quantity": "Quantity",
        "total": "Total",
        "items": "{n} item(s)",
        "remarks": "Remarks",
        "shipper_sign": "Shipped by (signature)",
        "receiver_sign": "Received by (signature)",
        "sign_date": "Date",
        "receiver_note": "Please check the goods on delivery and note any damage or shortage in the remarks.",
        "page": "Page {page}/{pages}",
        "statement": "Statement of account",
        "period": "Period",
        "as_of": "As of",
        "currency": "Currency",
        "date": "Date",
        "type": "Type",
        "reference": "Reference",
        "memo": "Memo",
        "debit": "Debit",
        "credit": "Credit",
        "balance": "Balance",
        "opening_balance": "Opening balance",
        "closing_balance": "Closing balance",
        "period_total": "Period total",
        "ageing": "Ageing",
        "ageing_heading": "Ageing (as of {date})",
        "ageing_bucket": "Age band",
        "amount": "Amount",
        "open_items": "Open receivables",
        "due_date": "Due date",
        "days_overdue": "Days overdue",
        "no_open_items": "No open receivables",
        "confirm_note": "Please check this statement and tell us of any difference within 7 days of receipt.",
        "customer_confirm": "Customer confirmation (stamp)",
        "type.order": "Order",
        "type.shipment": "Shipment",
        "type.payment": "Payment",
        "type.return": "Return",
        "type.adjustment": "Adjustment",
        "type.opening": "Opening balance",
        "bucket.0-30": "0–30 days",
        "bucket.31-60": "31–60 days",
        "bucket.61-90": "61–90 days",
        "bucket.90+": "90+ days",
    },
}


def labels(locale: str) -> dict[str, str]:
    return LABELS[normalize_locale(locale)]
