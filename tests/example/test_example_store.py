"""The simulated store's rules: stock, coupons (limits, expiry, minimum, categories), checkout."""

from __future__ import annotations

from datetime import date

import pytest

from benchmarks.storeagent.store import Coupon, Product, Store, StoreError, format_money

GPU = Product("GPU-1", "Graphics card 8GB", "gpu", 25_000, 2)
CABLE = Product("CBL-1", "USB-C cable", "cables", 1_000, 50)
TODAY = date(2025, 3, 14)


def _coupon(code: str, **overrides: object) -> Coupon:
    fields: dict[str, object] = {
        "code": code,
        "description": f"{code} headline",
        "kind": "percent",
        "value": 10,
        "uses_left": 5,
        "max_uses": 5,
        "expires": date(2025, 12, 31),
    }
    fields.update(overrides)
    return Coupon(**fields)  # type: ignore[arg-type]


def _store(*coupons: Coupon, seed: int = 0) -> Store:
    return Store.build([GPU, CABLE], coupons, seed=seed)


def test_it_formats_cents_as_dollars() -> None:
    assert format_money(24_900) == "$249.00"
    assert format_money(5) == "$0.05"
    assert format_money(-1_050) == "-$10.50"


def test_it_refuses_more_units_than_are_in_stock() -> None:
    store = _store()
    store.add_to_basket("GPU-1", 2)
    with pytest.raises(StoreError, match="only 2 of Graphics card 8GB"):
        store.add_to_basket("GPU-1", 1)
    assert store.basket == {"GPU-1": 2}


def test_it_says_out_of_stock_when_there_is_none() -> None:
    store = Store.build([Product("X", "Sold out thing", "misc", 100, 0)], [], seed=0)
    with pytest.raises(StoreError, match="out of stock"):
        store.add_to_basket("X", 1)


def test_it_rejects_unknown_products_and_coupons() -> None:
    store = _store()
    with pytest.raises(StoreError, match="no product with sku 'NOPE'"):
        store.get_product("NOPE")
    with pytest.raises(StoreError, match="no coupon with code 'NOPE'"):
        store.get_coupon("NOPE")


def test_it_rejects_a_coupon_without_remaining_uses() -> None:
    store = _store(_coupon("USED", uses_left=0))
    store.add_to_basket("GPU-1", 1)
    with pytest.raises(StoreError, match="USED has no remaining uses"):
        store.apply_coupon("USED")
    assert store.basket_coupon is None


def test_a_coupon_is_valid_through_its_expiry_date_and_not_after() -> None:
    store = _store(_coupon("TODAY", expires=TODAY), _coupon("YESTERDAY", expires=date(2025, 3, 13)))
    store.add_to_basket("GPU-1", 1)
    store.apply_coupon("TODAY")
    with pytest.raises(StoreError, match="YESTERDAY expired on 2025-03-13"):
        store.apply_coupon("YESTERDAY")
    assert store.basket_coupon == "TODAY"


def test_it_enforces_the_minimum_on_the_eligible_subtotal_only() -> None:
    store = _store(_coupon("GPUMIN", categories=frozenset({"gpu"}), min_basket_cents=30_000))
    store.add_to_basket("GPU-1", 1)
    store.add_to_basket("CBL-1", 10)  # $100 of cables do not count towards a gpu-only minimum
    with pytest.raises(StoreError, match=r"at least \$300.00; the basket has \$250.00"):
        store.apply_coupon("GPUMIN")


def test_it_rejects_a_coupon_whose_categories_are_not_in_the_basket() -> None:
    store = _store(_coupon("BAGS", categories=frozenset({"bags"})))
    store.add_to_basket("CBL-1", 1)
    with pytest.raises(StoreError, match="applies only to bags"):
        store.apply_coupon("BAGS")


def test_percent_coupons_discount_only_eligible_items_and_fixed_ones_cap_at_the_eligible_amount() -> None:
    store = _store(
        _coupon("GPU15", value=15, categories=frozenset({"gpu"})),
        _coupon("BIG", kind="fixed", value=5_000, categories=frozenset({"cables"})),
    )
    store.add_to_basket("GPU-1", 1)
    store.add_to_basket("CBL-1", 2)
    assert store.apply_coupon("GPU15")["discount"] == "$37.50"
    assert store.apply_coupon("BIG")["discount"] == "$20.00"  # $50 off, but only $20 of cables


def test_applying_a_second_coupon_replaces_the_first() -> None:
    store = _store(_coupon("A"), _coupon("B"))
    store.add_to_basket("CBL-1", 1)
    store.apply_coupon("A")
    view = store.apply_coupon("B")
    assert store.basket_coupon == "B"
    assert "replaced A" in view["note"]


def test_checkout_places_the_order_and_consumes_stock_and_a_coupon_use() -> None:
    store = _store(_coupon("SAVE", uses_left=1))
    store.add_to_basket("GPU-1", 2)
    store.apply_coupon("SAVE")
    order = store.checkout()
    assert order["total"] == "$450.00"
    assert order["coupon"] == "SAVE"
    assert store.stock("GPU-1") == 0
    assert store.uses_left("SAVE") == 0
    assert store.basket == {}
    assert store.basket_coupon is None
    assert store.get_coupon("SAVE")["status"] == "used up"
    assert [o.items for o in store.orders] == [{"GPU-1": 2}]


def test_checkout_revalidates_the_coupon_against_the_final_basket() -> None:
    store = _store(_coupon("MIN300", min_basket_cents=30_000))
    store.add_to_basket("GPU-1", 1)
    store.add_to_basket("CBL-1", 10)
    store.apply_coupon("MIN300")
    store.remove_from_basket("CBL-1")
    assert "coupon_problem" in store.view_basket()
    with pytest.raises(StoreError, match="MIN300 needs an eligible subtotal"):
        store.checkout()
    assert store.orders == []
    assert store.stock("GPU-1") == 2


def test_checkout_of_an_empty_basket_is_an_error() -> None:
    with pytest.raises(StoreError, match="basket is empty"):
        _store().checkout()


def test_list_coupons_shows_headlines_and_get_coupon_the_limits() -> None:
    store = _store(_coupon("VIP", description="15% off, up to 5 uses", uses_left=3, expires=date(2025, 4, 30)))
    assert store.list_coupons() == [{"code": "VIP", "description": "15% off, up to 5 uses"}]
    details = store.get_coupon("vip")  # codes are case-insensitive
    assert (details["uses_left"], details["max_uses"], details["expires"]) == (3, 5, "2025-04-30")
    assert details["status"] == "active"


def test_search_matches_every_word_in_name_or_category() -> None:
    store = _store()
    assert [p["sku"] for p in store.search_products("usb-c CABLE")] == ["CBL-1"]
    assert [p["sku"] for p in store.search_products("gpu 8gb")] == ["GPU-1"]
    assert store.search_products("gpu cable") == []


def test_the_seed_changes_presentation_only() -> None:
    products = [Product(f"P-{i}", f"Thing {i}", "misc", 100 * i, 5) for i in range(1, 9)]
    listings = {tuple(p["sku"] for p in Store.build(products, [], seed=s).list_products()) for s in range(6)}
    assert len(listings) > 1  # the order depends on the seed...
    assert {frozenset(listing) for listing in listings} == {frozenset(p.sku for p in products)}  # ...not the set
    first = Store.build(products, [], seed=3)
    again = Store.build(products, [], seed=3)
    assert first.list_products() == again.list_products()
    for store in (first, again):
        store.add_to_basket("P-1", 1)
    assert first.checkout() == again.checkout()  # same seed, same order id
