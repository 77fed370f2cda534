"""Success criteria for tasks: checks of the orders placed, or of the answer given."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..store import Order, Store, format_money
from .model import Check


@dataclass(frozen=True)
class ExpectedOrder:
    """One order the task wants: exact items and quantities, and the coupon (``ANY_COUPON``: not judged)."""

    items: Mapping[str, int]
    coupon: str | None


ANY_COUPON = "*any*"


def expect_order(items: Mapping[str, int], *, coupon: str | None = ANY_COUPON, max_total: float | None = None) -> Check:
    """Exactly one order with these items (and this coupon, and at most this total)."""
    return expect_orders([ExpectedOrder(items, coupon)], max_total=max_total)


def expect_orders(expected: Sequence[ExpectedOrder], *, max_total: float | None = None) -> Check:
    """Exactly these orders, in any order of placement."""

    def check(store: Store, message: str) -> str | None:
        orders = store.orders
        if not orders:
            return "claimed done but placed no order"
        if len(orders) != len(expected):
            return f"placed {len(orders)} orders, expected {len(expected)}"
        remaining = list(expected)
        for order in sorted(orders, key=lambda o: sorted(o.items.items())):
            match = next((e for e in remaining if _items_match(order, e)), None)
            if match is None:
                wanted = " or ".join(_describe_items(store, e.items) for e in remaining)
                return f"wrong items: bought {_describe_items(store, order.items)}; expected {wanted}"
            if match.coupon != ANY_COUPON and order.coupon != match.coupon:
                return (
                    f"wrong coupon on {_describe_items(store, order.items)}: used {order.coupon or 'none'}, "
                    f"expected {match.coupon or 'none'}"
                )
            remaining.remove(match)
        if max_total is not None:
            total = sum(order.total_cents for order in orders)
            if total > round(max_total * 100):
                return f"over budget: paid {format_money(total)}, limit {format_money(round(max_total * 100))}"
        return None

    return check


def expect_answer(*patterns: str, what: str) -> Check:
    """The ``done`` message matches every regex in ``patterns`` (case-insensitive) and nothing was bought."""
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]

    def check(store: Store, message: str) -> str | None:
        if store.orders:
            return "placed an order although only an answer was asked for"
        if not all(p.search(message) for p in compiled):
            return f"wrong answer: expected {what}"
        return None

    return check


def _items_match(order: Order, expected: ExpectedOrder) -> bool:
    return Counter(order.items) == Counter(dict(expected.items))


def _describe_items(store: Store, items: Mapping[str, int]) -> str:
    return ", ".join(f"{quantity}x {store.products[sku].name}" for sku, quantity in sorted(items.items()))
