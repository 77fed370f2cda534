"""Short constructors for actions, so that policies and mistakes read like the steps they are."""

from __future__ import annotations

from ..actions import (
    AddToBasket,
    ApplyCoupon,
    Checkout,
    Done,
    GetCoupon,
    GetProduct,
    ListCoupons,
    ListProducts,
    Refuse,
    RemoveFromBasket,
    SearchProducts,
    ViewBasket,
)


def search(query: str) -> SearchProducts:
    return SearchProducts(query=query)


def list_products(category: str | None = None) -> ListProducts:
    return ListProducts(category=category)


def product(sku: str) -> GetProduct:
    return GetProduct(sku=sku)


def add(sku: str, quantity: int = 1) -> AddToBasket:
    return AddToBasket(sku=sku, quantity=quantity)


def remove(sku: str) -> RemoveFromBasket:
    return RemoveFromBasket(sku=sku)


def basket() -> ViewBasket:
    return ViewBasket()


def coupons() -> ListCoupons:
    return ListCoupons()


def coupon_details(code: str) -> GetCoupon:
    return GetCoupon(code=code)


def apply(code: str) -> ApplyCoupon:
    return ApplyCoupon(code=code)


def checkout() -> Checkout:
    return Checkout()


def done(message: str) -> Done:
    return Done(message=message)


def refuse(reason: str) -> Refuse:
    return Refuse(reason=reason)
