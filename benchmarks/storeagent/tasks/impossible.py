"""Impossible tasks: the right behaviour is to check, then refuse (early termination), and buy nothing."""

from __future__ import annotations

from .catalogue import coupon
from .dsl import add, apply, checkout, coupon_details, coupons, done, list_products, refuse, search
from .model import StoreSetup, Task, make_task, mistake

IMPOSSIBLE_TASKS: tuple[Task, ...] = (
    make_task(
        "rtx4090_sold_out",
        "impossible",
        "Buy a GeForce RTX 4090 graphics card.",
        topics=["stock"],
        policy=[search("RTX 4090"), refuse("The RTX 4090 is out of stock, so I cannot buy it.")],
        mistakes=[
            (
                1,
                mistake(
                    "buys_substitute",
                    ["stock", "impossible"],
                    0.9,
                    add("GPU-4080"),
                    checkout(),
                    done("The 4090 is sold out; I bought the RTX 4080 instead."),
                ),
            ),
        ],
    ),
    make_task(
        "desk_coupon_used_up",
        "impossible",
        "Buy the standing desk, but only if coupon DESK50 can be applied; otherwise buy nothing.",
        topics=["coupons", "coupon_limits"],
        setup=StoreSetup(
            coupons=(
                coupon(
                    "DESK50",
                    "$50 off furniture",
                    dollars_off=50,
                    uses_left=0,
                    max_uses=200,
                    categories=["furniture"],
                ),
            )
        ),
        policy=[coupon_details("DESK50"), refuse("DESK50 has no remaining uses, so I did not buy the desk.")],
        mistakes=[
            (
                0,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.2,
                    search("standing desk"),
                    add("DESK-STAND"),
                    apply("DESK50"),
                    checkout(),
                    done("Bought the standing desk; DESK50 could not be applied."),
                ),
            ),
        ],
    ),
    make_task(
        "laptop_budget_too_small",
        "impossible",
        "Buy a laptop for at most $300, discounts included.",
        topics=["budget", "coupons"],
        setup=StoreSetup(coupons=(coupon("WELCOME10", "10% off your order", percent=10, uses_left=100),)),
        policy=[
            list_products("laptops"),
            coupons(),
            refuse("The cheapest laptop costs $449.00 and no coupon brings it under $300."),
        ],
        mistakes=[
            (
                2,
                mistake(
                    "buys_over_budget",
                    ["budget", "impossible"],
                    0.5,
                    add("LAP-13"),
                    apply("WELCOME10"),
                    checkout(),
                    done("Bought the cheapest laptop with WELCOME10."),
                ),
            ),
        ],
    ),
    make_task(
        "espresso_coupon_expired",
        "impossible",
        "Buy the espresso machine with coupon WINTER20; the customer will only buy it with that coupon.",
        topics=["coupons", "coupon_limits"],
        setup=StoreSetup(
            coupons=(
                coupon("WINTER20", "20% off coffee gear", percent=20, expires="2025-02-28", categories=["coffee"]),
            )
        ),
        policy=[
            coupon_details("WINTER20"),
            refuse("WINTER20 expired on 2025-02-28; I did not buy the machine."),
        ],
        mistakes=[
            (
                0,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.2,
                    search("espresso machine"),
                    add("COF-MACHINE"),
                    apply("WINTER20"),
                    checkout(),
                    done("Bought the espresso machine; WINTER20 did not apply."),
                ),
            ),
        ],
    ),
    make_task(
        "chairs_not_enough_stock",
        "impossible",
        "Buy 12 ergonomic office chairs, all the same model, for the office.",
        topics=["stock"],
        policy=[
            search("ergonomic chair"),
            refuse("Only 5 ergonomic office chairs are in stock; 12 are needed."),
        ],
        mistakes=[
            (
                1,
                mistake(
                    "partial_order",
                    ["stock", "impossible"],
                    0.7,
                    add("CHAIR-ERGO", 12),
                    add("CHAIR-ERGO", 5),
                    checkout(),
                    done("Bought the 5 chairs that were available."),
                ),
            ),
        ],
    ),
)
