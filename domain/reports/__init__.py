"""Reports: named read queries over orders, payments, receivables, approvals and shipments.

Every report takes the viewer's `Scope` (decided once, in `scope.py`) and, where it has one, a `Period`
(`domain.parsing.period`), and returns typed rows with `Decimal` money. Nothing here formats, translates or draws.

What counts, decided once for every report:
- **A sale** is an order that is approved or beyond: approved, partially shipped, shipped, completed
  (`SALE_STATUSES`). Drafts, orders still pending approval (they may yet be rejected), rejected and cancelled
  orders are not sales.
- **The date** of an order is `orders.created_at` (when it was placed), read in the configured time zone: a period
  is a set of local calendar days, turned into UTC bounds (`window`) so the created_at index serves the filter.
- **Money** is the order total (`orders.total`), the line amount (`order_lines.amount`) for products, and the payments
  recorded (`payments.amount`, by payment date) for collections.
"""

from domain.reports.scope import Scope, ScopeKind, scope_for
from domain.reports.window import SALE_STATUSES, Grain, grain_for, window

__all__ = ["SALE_STATUSES", "Grain", "Scope", "ScopeKind", "grain_for", "scope_for", "window"]
