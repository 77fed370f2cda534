"""The store's base catalogue (every task starts from it) and a helper to write coupons tersely."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Literal

from ..store import Coupon, Product


def _p(sku: str, name: str, category: str, dollars: float, stock: int) -> Product:
    return Product(sku=sku, name=name, category=category, price_cents=round(dollars * 100), stock=stock)


BASE_PRODUCTS: tuple[Product, ...] = (
    _p("GPU-A580", "Intel Arc A580 8GB graphics card", "gpu", 179, 0),
    _p("GPU-1650", "GeForce GTX 1650 4GB graphics card", "gpu", 149, 9),
    _p("GPU-7600", "Radeon RX 7600 8GB graphics card", "gpu", 249, 2),
    _p("GPU-4060", "GeForce RTX 4060 8GB graphics card", "gpu", 289, 5),
    _p("GPU-7700", "Radeon RX 7700 XT 12GB graphics card", "gpu", 399, 0),
    _p("GPU-4070", "GeForce RTX 4070 12GB graphics card", "gpu", 549, 3),
    _p("GPU-4080", "GeForce RTX 4080 16GB graphics card", "gpu", 1099, 2),
    _p("GPU-4090", "GeForce RTX 4090 24GB graphics card", "gpu", 1799, 0),
    _p("PSU-650", "650 W power supply (bronze)", "psu", 69, 8),
    _p("PSU-750B", "750 W power supply (bronze)", "psu", 79, 0),
    _p("PSU-750G", "750 W power supply (gold)", "psu", 99, 6),
    _p("MON-24", "24-inch monitor 1080p", "monitors", 129, 10),
    _p("MON-27Q", "27-inch monitor 1440p", "monitors", 279, 4),
    _p("MON-27K", "27-inch monitor 4K", "monitors", 349, 2),
    _p("MON-32K", "32-inch monitor 4K", "monitors", 399, 3),
    _p("KB-MECH", "Mechanical keyboard (wired)", "keyboards", 89, 12),
    _p("KB-W59", "Wireless keyboard K380", "keyboards", 59, 7),
    _p("KB-W79", "Wireless keyboard MX Keys Mini", "keyboards", 79, 4),
    _p("MS-WIRED", "Wired mouse M90", "mice", 19, 20),
    _p("MS-W29", "Wireless mouse M185", "mice", 29, 0),
    _p("MS-W39", "Wireless mouse M240", "mice", 39, 11),
    _p("MS-MX3S", "Logitech MX Master 3S wireless mouse", "mice", 99, 6),
    _p("HP-NC", "Noise-cancelling headphones WH-1000", "audio", 299, 5),
    _p("HP-CASE", "Headphone case for WH series", "audio", 25, 9),
    _p("HP-BUDS", "Wireless earbuds", "audio", 129, 8),
    _p("WEB-1080", "Webcam 1080p", "accessories", 69, 7),
    _p("DOCK-USB", "USB-C docking station", "accessories", 189, 4),
    _p("CBL-USBC1", "USB-C cable 1 m", "cables", 9, 40),
    _p("CBL-HDMI-A", "HDMI 2.1 cable 2 m (Basic)", "cables", 12, 4),
    _p("CBL-HDMI-B", "HDMI 2.1 cable 2 m (Pro)", "cables", 15, 10),
    _p("CHG-65", "USB-C charger 65 W", "chargers", 20, 14),
    _p("BAG-SLV", "Laptop sleeve 14-inch", "bags", 45, 6),
    _p("LAP-13", "Laptop 13-inch 8 GB", "laptops", 449, 5),
    _p("LAP-14", "Laptop 14-inch 16 GB", "laptops", 899, 3),
    _p("BK-24", "Book: Python Tricks", "books", 24, 10),
    _p("BK-28", "Book: Fluent Python", "books", 28, 10),
    _p("BK-34", "Book: The Pragmatic Programmer", "books", 34, 10),
    _p("BK-38", "Book: Designing Data-Intensive Applications", "books", 38, 10),
    _p("NB-A5", "A5 dotted notebook", "stationery", 8, 30),
    _p("COF-BEANS", "Espresso beans 1 kg", "coffee", 24, 15),
    _p("COF-MACHINE", "Espresso machine Classic", "coffee", 349, 3),
    _p("EREADER", "Kindle Paperwhite e-reader", "ereaders", 159, 7),
    _p("DESK-STAND", "Standing desk", "furniture", 499, 2),
    _p("CHAIR-ERGO", "Ergonomic office chair", "furniture", 329, 5),
)


def products(stock: Mapping[str, int] | None = None) -> tuple[Product, ...]:
    """The base catalogue, with some stock levels changed for one task."""
    overrides = dict(stock or {})
    unknown = set(overrides) - {p.sku for p in BASE_PRODUCTS}
    if unknown:
        raise ValueError(f"stock override for unknown products: {sorted(unknown)}")
    return tuple(replace(p, stock=overrides.get(p.sku, p.stock)) for p in BASE_PRODUCTS)


def coupon(
    code: str,
    description: str,
    *,
    percent: int | None = None,
    dollars_off: float | None = None,
    uses_left: int = 10,
    max_uses: int | None = None,
    expires: str | None = "2025-12-31",
    min_basket: float = 0,
    categories: Iterable[str] = (),
) -> Coupon:
    """A coupon from readable arguments: exactly one of ``percent`` or ``dollars_off``."""
    if (percent is None) == (dollars_off is None):
        raise ValueError(f"coupon {code}: give exactly one of percent or dollars_off")
    kind: Literal["percent", "fixed"] = "percent" if percent is not None else "fixed"
    value = percent if percent is not None else round((dollars_off or 0) * 100)
    return Coupon(
        code=code,
        description=description,
        kind=kind,
        value=value,
        uses_left=uses_left,
        max_uses=max_uses if max_uses is not None else max(uses_left, 1),
        expires=date.fromisoformat(expires) if expires else None,
        min_basket_cents=round(min_basket * 100),
        categories=frozenset(categories),
    )
