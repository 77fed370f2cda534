"""A small simulated web store: products with stock, a basket, coupons with limits, and checkout.

Money is held in integer cents so that totals are exact. The store's rules are the ones the benchmark tasks
are about:

* a basket line cannot hold more units than the product has in stock;
* one coupon per order; applying a coupon replaces the previous one;
* a coupon is usable when it exists, has not expired (it is valid *through* its expiry date, compared with the
  store's simulated ``today``), has remaining uses, the basket holds at least one item of its categories (an
  empty category set means every category) and the eligible subtotal reaches its minimum;
* checkout re-validates stock and the coupon against the basket *as it is then* (a coupon applied to a bigger
  basket can stop being valid after items are removed), then decrements stock and the coupon's remaining uses.

Every operation that a request can get wrong raises :class:`StoreError` with a message meant for the agent.
The store is deterministic given its seed: the seed only shuffles the listing order and names the orders, so
two stores built from the same catalogue and seed behave identically, and stores with different seeds differ
only in presentation.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

SIMULATED_TODAY = date(2025, 3, 14)


class StoreError(Exception):
    """A request the store refuses; the message is shown to the agent as the tool's error."""


def format_money(cents: int) -> str:
    """``24900`` -> ``"$249.00"``."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


@dataclass(frozen=True)
class Coupon:
    """A coupon. ``value`` is a percentage for ``percent`` coupons and cents for ``fixed`` ones.

    ``description`` is the headline that :meth:`Store.list_coupons` shows; the limits (remaining uses, expiry,
    minimum basket, categories) are only visible through :meth:`Store.get_coupon`.
    """

    code: str
    description: str
    kind: Literal["percent", "fixed"]
    value: int
    uses_left: int
    max_uses: int
    expires: date | None = None
    min_basket_cents: int = 0
    categories: frozenset[str] = frozenset()

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories


@dataclass(frozen=True)
class Order:
    order_id: str
    lines: tuple[tuple[str, int], ...]
    coupon: str | None
    subtotal_cents: int
    discount_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents

    @property
    def items(self) -> dict[str, int]:
        return dict(self.lines)


@dataclass
class Store:
    """The mutable state of one store session (one agent trial)."""

    products: Mapping[str, Product]
    coupons: Mapping[str, Coupon]
    seed: int
    today: date = SIMULATED_TODAY
    basket: dict[str, int] = field(default_factory=dict)
    basket_coupon: str | None = None
    orders: list[Order] = field(default_factory=list)
    _stock: dict[str, int] = field(init=False)
    _uses_left: dict[str, int] = field(init=False)
    _listing_order: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._stock = {sku: product.stock for sku, product in self.products.items()}
        self._uses_left = {code: coupon.uses_left for code, coupon in self.coupons.items()}
        order = sorted(self.products)
        random.Random(self.seed).shuffle(order)
        self._listing_order = order

    @classmethod
    def build(
        cls,
        products: Iterable[Product],
        coupons: Iterable[Coupon],
        *,
        seed: int,
        basket: Mapping[str, int] | None = None,
        coupon: str | None = None,
    ) -> Store:
        store = cls(products={p.sku: p for p in products}, coupons={c.code: c for c in coupons}, seed=seed)
        for sku, quantity in (basket or {}).items():
            store.add_to_basket(sku, quantity)
        if coupon is not None:
            store.apply_coupon(coupon)
        return store

    # -- queries --------------------------------------------------------------------------------------------

    def stock(self, sku: str) -> int:
        return self._stock[self._product(sku).sku]

    def uses_left(self, code: str) -> int:
        return self._uses_left[self._coupon(code).code]

    def list_products(self, category: str | None = None) -> list[dict[str, Any]]:
        wanted = category.strip().lower() if category else None
        return [
            self._product_view(self.products[sku])
            for sku in self._listing_order
            if wanted is None or self.products[sku].category == wanted
        ]

    def search_products(self, query: str) -> list[dict[str, Any]]:
        """Products whose name or category contains every word of ``query`` (case-insensitive)."""
        words = query.lower().split()
        if not words:
            raise StoreError("search query is empty")
        found = []
        for sku in self._listing_order:
            product = self.products[sku]
            haystack = f"{product.name} {product.category}".lower()
            if all(word in haystack for word in words):
                found.append(self._product_view(product))
        return found

    def get_product(self, sku: str) -> dict[str, Any]:
        return self._product_view(self._product(sku))

    def list_coupons(self) -> list[dict[str, str]]:
        return [{"code": c.code, "description": c.description} for c in self.coupons.values()]

    def get_coupon(self, code: str) -> dict[str, Any]:
        coupon = self._coupon(code)
        discount = f"{coupon.value}% off" if coupon.kind == "percent" else f"{format_money(coupon.value)} off"
        return {
            "code": coupon.code,
            "description": coupon.description,
            "discount": discount,
            "categories": sorted(coupon.categories) or "all",
            "minimum_basket": format_money(coupon.min_basket_cents),
            "uses_left": self._uses_left[coupon.code],
            "max_uses": coupon.max_uses,
            "expires": coupon.expires.isoformat() if coupon.expires else None,
            "status": self._coupon_status(coupon),
            "today": self.today.isoformat(),
        }

    def view_basket(self) -> dict[str, Any]:
        lines = [
            {
                "sku": sku,
                "name": self.products[sku].name,
                "quantity": quantity,
                "unit_price": format_money(self.products[sku].price_cents),
                "line_total": format_money(self.products[sku].price_cents * quantity),
            }
            for sku, quantity in self.basket.items()
        ]
        subtotal = self._subtotal()
        view: dict[str, Any] = {
            "lines": lines,
            "subtotal": format_money(subtotal),
            "coupon": self.basket_coupon,
        }
        discount = 0
        if self.basket_coupon is not None:
            try:
                discount = self._validated_discount(self.coupons[self.basket_coupon])
            except StoreError as exc:
                view["coupon_problem"] = str(exc)
        view["discount"] = format_money(discount)
        view["total"] = format_money(subtotal - discount)
        return view

    # -- changes --------------------------------------------------------------------------------------------

    def add_to_basket(self, sku: str, quantity: int) -> dict[str, Any]:
        product = self._product(sku)
        if quantity < 1:
            raise StoreError(f"quantity must be at least 1, got {quantity}")
        in_basket = self.basket.get(product.sku, 0)
        available = self._stock[product.sku]
        if in_basket + quantity > available:
            if available == 0:
                raise StoreError(f"{product.name} ({product.sku}) is out of stock")
            raise StoreError(
                f"only {available} of {product.name} ({product.sku}) in stock; "
                f"{in_basket} already in the basket, {quantity} requested"
            )
        self.basket[product.sku] = in_basket + quantity
        return self.view_basket()

    def remove_from_basket(self, sku: str) -> dict[str, Any]:
        product = self._product(sku)
        if product.sku not in self.basket:
            raise StoreError(f"{product.name} ({product.sku}) is not in the basket")
        del self.basket[product.sku]
        return self.view_basket()

    def apply_coupon(self, code: str) -> dict[str, Any]:
        coupon = self._coupon(code)
        self._validated_discount(coupon)
        replaced = self.basket_coupon if self.basket_coupon not in (None, coupon.code) else None
        self.basket_coupon = coupon.code
        view = self.view_basket()
        if replaced is not None:
            view["note"] = f"one coupon per order: {coupon.code} replaced {replaced}"
        return view

    def remove_coupon(self) -> dict[str, Any]:
        if self.basket_coupon is None:
            raise StoreError("no coupon is applied")
        self.basket_coupon = None
        return self.view_basket()

    def checkout(self) -> dict[str, Any]:
        if not self.basket:
            raise StoreError("the basket is empty")
        for sku, quantity in self.basket.items():
            if quantity > self._stock[sku]:
                raise StoreError(f"only {self._stock[sku]} of {self.products[sku].name} ({sku}) in stock")
        discount = 0
        if self.basket_coupon is not None:
            discount = self._validated_discount(self.coupons[self.basket_coupon])
        order = Order(
            order_id=self._order_id(len(self.orders) + 1),
            lines=tuple(self.basket.items()),
            coupon=self.basket_coupon,
            subtotal_cents=self._subtotal(),
            discount_cents=discount,
        )
        for sku, quantity in order.lines:
            self._stock[sku] -= quantity
        if order.coupon is not None:
            self._uses_left[order.coupon] -= 1
        self.orders.append(order)
        self.basket = {}
        self.basket_coupon = None
        return {
            "order_id": order.order_id,
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in order.lines],
            "coupon": order.coupon,
            "subtotal": format_money(order.subtotal_cents),
            "discount": format_money(order.discount_cents),
            "total": format_money(order.total_cents),
        }

    # -- rules ----------------------------------------------------------------------------------------------

    def _coupon_status(self, coupon: Coupon) -> str:
        if coupon.expires is not None and self.today > coupon.expires:
            return "expired"
        if self._uses_left[coupon.code] <= 0:
            return "used up"
        return "active"

    def _validated_discount(self, coupon: Coupon) -> int:
        """The discount ``coupon`` gives the current basket, or :class:`StoreError` saying why it cannot."""
        if coupon.expires is not None and self.today > coupon.expires:
            raise StoreError(f"coupon {coupon.code} expired on {coupon.expires.isoformat()}")
        if self._uses_left[coupon.code] <= 0:
            raise StoreError(f"coupon {coupon.code} has no remaining uses")
        if not self.basket:
            raise StoreError(f"coupon {coupon.code} cannot be applied to an empty basket")
        eligible = sum(
            self.products[sku].price_cents * quantity
            for sku, quantity in self.basket.items()
            if coupon.applies_to(self.products[sku].category)
        )
        if eligible == 0:
            categories = ", ".join(sorted(coupon.categories))
            raise StoreError(f"coupon {coupon.code} applies only to {categories}; the basket has none")
        if eligible < coupon.min_basket_cents:
            raise StoreError(
                f"coupon {coupon.code} needs an eligible subtotal of at least "
                f"{format_money(coupon.min_basket_cents)}; the basket has {format_money(eligible)}"
            )
        if coupon.kind == "percent":
            return (eligible * coupon.value + 50) // 100
        return min(coupon.value, eligible)

    def _subtotal(self) -> int:
        return sum(self.products[sku].price_cents * quantity for sku, quantity in self.basket.items())

    def _product(self, sku: str) -> Product:
        product = self.products.get(sku.strip().upper())
        if product is None:
            raise StoreError(f"no product with sku {sku!r}")
        return product

    def _coupon(self, code: str) -> Coupon:
        coupon = self.coupons.get(code.strip().upper())
        if coupon is None:
            raise StoreError(f"no coupon with code {code!r}")
        return coupon

    def _product_view(self, product: Product) -> dict[str, Any]:
        return {
            "sku": product.sku,
            "name": product.name,
            "category": product.category,
            "price": format_money(product.price_cents),
            "stock": self._stock[product.sku],
        }

    def _order_id(self, number: int) -> str:
        digest = hashlib.sha256(f"{self.seed}:{number}".encode()).hexdigest()[:6].upper()
        return f"ORD-{digest}-{number}"
