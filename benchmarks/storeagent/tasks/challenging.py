"""Challenging tasks: long, multi-step, several traps in a row. No config solves them reliably."""

from __future__ import annotations

from .catalogue import coupon
from .checks import ExpectedOrder, expect_order, expect_orders
from .dsl import (
    add,
    apply,
    basket,
    checkout,
    coupon_details,
    coupons,
    done,
    list_products,
    product,
    refuse,
    remove,
    search,
)
from .model import StoreSetup, Task, make_task, mistake

CHALLENGING_TASKS: tuple[Task, ...] = (
    make_task(
        "gpu_build",
        "challenging",
        "Buy a graphics card with at least 12 GB of memory, a 750 W power supply and a 27-inch monitor in "
        "one order, for the lowest possible total, using at most one coupon.",
        topics=["stock", "budget", "coupons", "coupon_limits"],
        setup=StoreSetup(
            coupons=(
                coupon("PC20", "20% off graphics cards", percent=20, uses_left=0, max_uses=30, categories=["gpu"]),
                coupon(
                    "SAVE120",
                    "$120 off orders over $500",
                    dollars_off=120,
                    min_basket=500,
                    expires="2025-03-13",
                ),
                coupon("BUILD10", "10% off orders over $800", percent=10, min_basket=800),
                coupon("MON25", "25% off monitors", percent=25, categories=["monitors"]),
            )
        ),
        policy=[
            list_products("gpu"),
            search("750 W"),
            search("27-inch monitor"),
            add("GPU-4070"),
            add("PSU-750G"),
            add("MON-27Q"),
            coupons(),
            coupon_details("PC20"),
            coupon_details("SAVE120"),
            coupon_details("BUILD10"),
            apply("BUILD10"),
            checkout(),
            done("Ordered the RTX 4070, the 750 W gold PSU and the 27-inch 1440p monitor with BUILD10."),
        ],
        check=expect_order({"GPU-4070": 1, "PSU-750G": 1, "MON-27Q": 1}, coupon="BUILD10"),
        mistakes=[
            (
                3,
                mistake(
                    "ignores_stock",
                    ["stock"],
                    2.6,
                    add("GPU-7700"),
                    add("GPU-4080"),
                    add("PSU-750G"),
                    add("MON-27Q"),
                    apply("BUILD10"),
                    checkout(),
                    done("The RX 7700 XT was sold out; ordered the build with the RTX 4080."),
                ),
            ),
            (
                4,
                mistake(
                    "ignores_stock",
                    ["stock"],
                    2.2,
                    add("PSU-750B"),
                    add("PSU-650"),
                    add("MON-27Q"),
                    apply("BUILD10"),
                    checkout(),
                    done("Ordered the build with the 650 W PSU since the 750 W bronze was sold out."),
                ),
            ),
            (
                7,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    2.4,
                    apply("PC20"),
                    apply("SAVE120"),
                    checkout(),
                    done("PC20 and SAVE120 did not apply; ordered without a coupon."),
                ),
            ),
            (
                9,
                mistake(
                    "picks_headline_coupon",
                    ["coupons", "budget"],
                    1.6,
                    apply("MON25"),
                    checkout(),
                    done("Ordered the build with MON25."),
                ),
            ),
        ],
    ),
    make_task(
        "office_setup",
        "challenging",
        "Furnish a small office: buy 3 identical monitors and 3 identical wireless keyboards in one order. "
        "Choose the cheapest models that have at least 3 units in stock; the total must stay under $650.",
        topics=["stock", "budget"],
        setup=StoreSetup(stock={"KB-W59": 2}),
        policy=[
            search("monitor"),
            search("wireless keyboard"),
            product("KB-W59"),
            add("MON-24", 3),
            add("KB-W79", 3),
            basket(),
            checkout(),
            done("Ordered 3 24-inch monitors and 3 MX Keys Mini keyboards for $624.00."),
        ],
        check=expect_order({"MON-24": 3, "KB-W79": 3}, max_total=650),
        mistakes=[
            (
                2,
                mistake(
                    "ignores_stock",
                    ["stock"],
                    2.8,
                    add("MON-24", 3),
                    add("KB-W59", 3),
                    add("KB-W59", 2),
                    add("KB-W79", 1),
                    checkout(),
                    done("Ordered 3 monitors, 2 K380 and 1 MX Keys Mini keyboards."),
                ),
            ),
            (
                4,
                mistake(
                    "refuses_feasible_task",
                    ["stock", "budget"],
                    1.8,
                    refuse(
                        "The cheapest wireless keyboard has only 2 in stock, so 3 identical ones are "
                        "not possible within budget."
                    ),
                ),
            ),
            (
                5,
                mistake(
                    "over_budget_upgrade",
                    ["budget"],
                    1.4,
                    remove("MON-24"),
                    add("MON-27Q", 3),
                    checkout(),
                    done("Ordered 3 27-inch monitors and 3 MX Keys Mini keyboards."),
                ),
            ),
        ],
    ),
    make_task(
        "split_orders",
        "challenging",
        "Buy the USB-C docking station and the 14-inch laptop as two separate orders (one item per order) "
        "and save as much as possible in total with the coupons.",
        topics=["coupons", "coupon_limits", "basket"],
        setup=StoreSetup(
            coupons=(
                coupon("ONCE25", "25% off, last use", percent=25, uses_left=1, max_uses=500),
                coupon("TENOFF", "10% off everything", percent=10, uses_left=20),
                coupon(
                    "DOCK30",
                    "30% off accessories",
                    percent=30,
                    expires="2025-03-01",
                    categories=["accessories"],
                ),
            )
        ),
        policy=[
            search("docking station"),
            search("14-inch laptop"),
            coupons(),
            coupon_details("ONCE25"),
            coupon_details("DOCK30"),
            coupon_details("TENOFF"),
            add("LAP-14"),
            apply("ONCE25"),
            checkout(),
            add("DOCK-USB"),
            apply("TENOFF"),
            checkout(),
            done("Two orders: the laptop with ONCE25 (its last use) and the dock with TENOFF."),
        ],
        check=expect_orders([ExpectedOrder({"LAP-14": 1}, "ONCE25"), ExpectedOrder({"DOCK-USB": 1}, "TENOFF")]),
        mistakes=[
            (
                3,
                mistake(
                    "spends_one_shot_coupon_first",
                    ["coupon_limits"],
                    2.5,
                    add("DOCK-USB"),
                    apply("ONCE25"),
                    checkout(),
                    add("LAP-14"),
                    apply("ONCE25"),
                    apply("TENOFF"),
                    checkout(),
                    done("Two orders placed: dock with ONCE25, laptop with TENOFF."),
                ),
            ),
            (
                4,
                mistake(
                    "skips_expiry_check",
                    ["coupon_limits"],
                    2.0,
                    add("LAP-14"),
                    apply("ONCE25"),
                    checkout(),
                    add("DOCK-USB"),
                    apply("DOCK30"),
                    checkout(),
                    done("Two orders placed; DOCK30 did not apply to the dock."),
                ),
            ),
            (
                6,
                mistake(
                    "merges_orders",
                    ["basket"],
                    2.4,
                    add("LAP-14"),
                    add("DOCK-USB"),
                    apply("ONCE25"),
                    checkout(),
                    done("Ordered both items with ONCE25."),
                ),
            ),
            (
                9,
                mistake(
                    "forgets_second_order",
                    ["verification"],
                    1.6,
                    done("Ordered the laptop with ONCE25; the dock is done too."),
                ),
            ),
        ],
    ),
    make_task(
        "basket_cleanup",
        "challenging",
        "Your basket still holds items from an earlier session. Keep only the noise-cancelling headphones, "
        "add the matching headphone case, and check out with the best coupon available.",
        topics=["basket", "coupons", "coupon_limits"],
        setup=StoreSetup(
            coupons=(
                coupon("MEGA25", "25% off orders over $400", percent=25, min_basket=400),
                coupon("SPRING30", "30% off audio", percent=30, expires="2025-03-13", categories=["audio"]),
                coupon("AUDIO20", "20% off audio", percent=20, categories=["audio"]),
            ),
            basket={"HP-NC": 1, "GPU-4060": 1, "CBL-USBC1": 2},
        ),
        policy=[
            basket(),
            remove("GPU-4060"),
            remove("CBL-USBC1"),
            search("headphone case"),
            add("HP-CASE"),
            coupons(),
            coupon_details("MEGA25"),
            coupon_details("SPRING30"),
            apply("AUDIO20"),
            checkout(),
            done("Ordered the headphones and the case with AUDIO20."),
        ],
        check=expect_order({"HP-NC": 1, "HP-CASE": 1}, coupon="AUDIO20"),
        mistakes=[
            (
                1,
                mistake(
                    "applies_coupon_before_cleanup",
                    ["coupon_limits", "verification"],
                    2.2,
                    apply("MEGA25"),
                    remove("GPU-4060"),
                    remove("CBL-USBC1"),
                    search("headphone case"),
                    add("HP-CASE"),
                    checkout(),
                    done("Ordered the headphones and the case with MEGA25."),
                ),
            ),
            (
                2,
                mistake(
                    "keeps_extra_items",
                    ["basket"],
                    2.6,
                    search("headphone case"),
                    add("HP-CASE"),
                    apply("AUDIO20"),
                    checkout(),
                    done("Ordered the headphones and the case with AUDIO20."),
                ),
            ),
            (
                7,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.8,
                    apply("SPRING30"),
                    checkout(),
                    done("Ordered; SPRING30 could not be applied."),
                ),
            ),
        ],
    ),
    make_task(
        "cheapest_4k_after_coupon",
        "challenging",
        "Buy the 4K monitor that is cheapest after coupons.",
        topics=["budget", "coupons", "coupon_limits"],
        setup=StoreSetup(
            coupons=(
                coupon(
                    "BIG4K",
                    "$90 off 32-inch monitors, ends today",
                    dollars_off=90,
                    expires="2025-03-14",
                    categories=["monitors"],
                    min_basket=399,
                ),
                coupon("MON10", "10% off monitors", percent=10, categories=["monitors"]),
            )
        ),
        policy=[
            search("4K monitor"),
            coupons(),
            coupon_details("BIG4K"),
            coupon_details("MON10"),
            add("MON-32K"),
            apply("BIG4K"),
            checkout(),
            done("Ordered the 32-inch 4K monitor for $309.00 with BIG4K (valid through today)."),
        ],
        check=expect_order({"MON-32K": 1}, coupon="BIG4K"),
        mistakes=[
            (
                2,
                mistake(
                    "compares_sticker_prices",
                    ["budget", "coupons"],
                    3.4,
                    add("MON-27K"),
                    apply("MON10"),
                    checkout(),
                    done("Ordered the 27-inch 4K monitor, the cheapest, with MON10."),
                ),
            ),
            (
                3,
                mistake(
                    "misreads_expiry",
                    ["coupon_limits"],
                    2.2,
                    add("MON-27K"),
                    apply("MON10"),
                    checkout(),
                    done("BIG4K expires today, so I ordered the 27-inch 4K monitor with MON10."),
                ),
            ),
        ],
    ),
)
