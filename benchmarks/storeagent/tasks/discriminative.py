"""Discriminative tasks: one trap each that competence, model tier and the right guideline decide.

Six of them are about coupon limits (remaining uses, expiry, minimum basket, categories): the headline in
``list_coupons`` looks attractive, the limits are only visible through ``get_coupon``.
"""

from __future__ import annotations

from .catalogue import coupon
from .checks import expect_answer, expect_order
from .dsl import add, apply, checkout, coupon_details, coupons, done, list_products, search
from .model import StoreSetup, Task, make_task, mistake

COUPON_LIMITS = ["coupons", "coupon_limits"]

DISCRIMINATIVE_TASKS: tuple[Task, ...] = (
    make_task(
        "gpu_race",
        "discriminative",
        "Buy the cheapest graphics card with at least 8 GB of memory that is in stock.",
        topics=["stock", "budget"],
        policy=[
            list_products("gpu"),
            add("GPU-7600"),
            checkout(),
            done("Bought the Radeon RX 7600 8GB for $249.00, the cheapest 8 GB card in stock."),
        ],
        check=expect_order({"GPU-7600": 1}),
        mistakes=[
            (
                1,
                mistake(
                    "ignores_memory_requirement",
                    ["budget"],
                    -0.2,
                    add("GPU-1650"),
                    checkout(),
                    done("Bought the cheapest card, the GTX 1650."),
                ),
            ),
            (
                1,
                mistake(
                    "ignores_stock",
                    ["stock"],
                    0.6,
                    add("GPU-A580"),
                    add("GPU-4060"),
                    checkout(),
                    done("The Arc A580 was unavailable, so I bought the RTX 4060."),
                ),
            ),
        ],
    ),
    make_task(
        "coupon_used_up",
        "discriminative",
        "Buy the 27-inch 1440p monitor with the biggest discount the available coupons allow.",
        topics=COUPON_LIMITS,
        setup=StoreSetup(
            coupons=(
                coupon(
                    "MEGA25",
                    "25% off monitors",
                    percent=25,
                    uses_left=0,
                    max_uses=50,
                    categories=["monitors"],
                ),
                coupon("SAVE15", "15% off everything", percent=15, uses_left=3),
                coupon("WELCOME10", "10% off your order", percent=10, uses_left=100),
            )
        ),
        policy=[
            search("27-inch monitor"),
            coupons(),
            coupon_details("MEGA25"),
            coupon_details("SAVE15"),
            add("MON-27Q"),
            apply("SAVE15"),
            checkout(),
            done("Ordered the 27-inch 1440p monitor with SAVE15 (MEGA25 has no uses left)."),
        ],
        check=expect_order({"MON-27Q": 1}, coupon="SAVE15"),
        mistakes=[
            (
                2,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.6,
                    add("MON-27Q"),
                    apply("MEGA25"),
                    checkout(),
                    done("Ordered the monitor; MEGA25 could not be applied."),
                ),
            ),
            (
                3,
                mistake(
                    "settles_for_weaker_coupon",
                    ["coupons"],
                    -0.6,
                    add("MON-27Q"),
                    apply("WELCOME10"),
                    checkout(),
                    done("Ordered the monitor with WELCOME10."),
                ),
            ),
        ],
    ),
    make_task(
        "coupon_expired",
        "discriminative",
        "Buy the noise-cancelling headphones with the best coupon you can get.",
        topics=COUPON_LIMITS,
        setup=StoreSetup(
            coupons=(
                coupon("SPRING30", "30% off audio", percent=30, expires="2025-03-13", categories=["audio"]),
                coupon("AUDIO20", "20% off audio", percent=20, expires="2025-03-31", categories=["audio"]),
                coupon("WELCOME10", "10% off your order", percent=10, uses_left=100),
            )
        ),
        policy=[
            search("noise-cancelling headphones"),
            coupons(),
            coupon_details("SPRING30"),
            add("HP-NC"),
            apply("AUDIO20"),
            checkout(),
            done("Ordered the headphones with AUDIO20; SPRING30 expired yesterday."),
        ],
        check=expect_order({"HP-NC": 1}, coupon="AUDIO20"),
        mistakes=[
            (
                2,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.6,
                    add("HP-NC"),
                    apply("SPRING30"),
                    checkout(),
                    done("Ordered the headphones; SPRING30 did not apply."),
                ),
            ),
            (
                4,
                mistake(
                    "settles_for_weaker_coupon",
                    ["coupons"],
                    -0.6,
                    apply("WELCOME10"),
                    checkout(),
                    done("Ordered the headphones with WELCOME10."),
                ),
            ),
        ],
    ),
    make_task(
        "coupon_min_basket",
        "discriminative",
        "Buy the Logitech MX Master 3S mouse. Use coupon BIG50 if it can be used; otherwise use the best "
        "coupon that can.",
        topics=[*COUPON_LIMITS, "budget"],
        setup=StoreSetup(
            coupons=(
                coupon("BIG50", "$50 off", dollars_off=50, min_basket=200),
                coupon("GEAR12", "12% off mice and keyboards", percent=12, categories=["mice", "keyboards"]),
                coupon("WELCOME10", "10% off your order", percent=10, uses_left=100),
            )
        ),
        policy=[
            search("MX Master 3S"),
            coupon_details("BIG50"),
            coupons(),
            coupon_details("GEAR12"),
            add("MS-MX3S"),
            apply("GEAR12"),
            checkout(),
            done("Ordered the MX Master 3S with GEAR12; BIG50 needs a $200 basket."),
        ],
        check=expect_order({"MS-MX3S": 1}, coupon="GEAR12"),
        mistakes=[
            (
                1,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.6,
                    add("MS-MX3S"),
                    apply("BIG50"),
                    checkout(),
                    done("Ordered the mouse; BIG50 could not be used."),
                ),
            ),
            (
                1,
                mistake(
                    "pads_basket_for_coupon",
                    ["budget"],
                    -0.4,
                    add("MS-MX3S"),
                    add("HP-BUDS"),
                    apply("BIG50"),
                    checkout(),
                    done("Ordered the mouse and added earbuds to reach BIG50's minimum."),
                ),
            ),
        ],
    ),
    make_task(
        "coupon_category",
        "discriminative",
        "Buy the 14-inch laptop sleeve and the 65 W USB-C charger in one order, with the coupon that saves the most.",
        topics=COUPON_LIMITS,
        setup=StoreSetup(
            coupons=(
                coupon("TECH25", "25% off", percent=25, categories=["chargers"]),
                coupon("BAGS15", "15% off", percent=15, categories=["bags"]),
                coupon("ACC5", "$5 off accessories", dollars_off=5, min_basket=50, categories=["accessories"]),
            )
        ),
        policy=[
            search("laptop sleeve"),
            search("65 W charger"),
            coupons(),
            coupon_details("TECH25"),
            coupon_details("BAGS15"),
            add("BAG-SLV"),
            add("CHG-65"),
            apply("BAGS15"),
            checkout(),
            done("Ordered the sleeve and the charger with BAGS15 ($6.75 off; TECH25 would give $5.00)."),
        ],
        check=expect_order({"BAG-SLV": 1, "CHG-65": 1}, coupon="BAGS15"),
        mistakes=[
            (
                3,
                mistake(
                    "picks_headline_coupon",
                    ["coupon_limits"],
                    1.5,
                    add("BAG-SLV"),
                    add("CHG-65"),
                    apply("TECH25"),
                    checkout(),
                    done("Ordered both with TECH25, the biggest discount."),
                ),
            ),
        ],
    ),
    make_task(
        "coupon_best_of_four",
        "discriminative",
        "Buy the 1080p webcam and the 24-inch monitor in one order with the best coupon available.",
        topics=COUPON_LIMITS,
        setup=StoreSetup(
            coupons=(
                coupon("FLASH30", "30% off everything", percent=30, expires="2025-03-10"),
                coupon("VIP20", "20% off everything", percent=20, uses_left=0, max_uses=100),
                coupon("HOME12", "12% off everything", percent=12, expires="2025-06-30"),
                coupon("BUNDLE15", "$15 off bundles", dollars_off=15, min_basket=250),
            )
        ),
        policy=[
            search("webcam"),
            search("24-inch monitor"),
            coupons(),
            coupon_details("FLASH30"),
            coupon_details("VIP20"),
            add("WEB-1080"),
            add("MON-24"),
            apply("HOME12"),
            checkout(),
            done("Ordered the webcam and the monitor with HOME12; FLASH30 expired and VIP20 is used up."),
        ],
        check=expect_order({"WEB-1080": 1, "MON-24": 1}, coupon="HOME12"),
        mistakes=[
            (
                3,
                mistake(
                    "skips_coupon_check",
                    ["coupon_limits"],
                    1.6,
                    add("WEB-1080"),
                    add("MON-24"),
                    apply("FLASH30"),
                    apply("VIP20"),
                    checkout(),
                    done("FLASH30 and VIP20 failed, so I ordered at full price."),
                ),
            ),
            (
                7,
                mistake(
                    "settles_for_weaker_coupon",
                    ["coupons"],
                    -0.6,
                    apply("BUNDLE15"),
                    checkout(),
                    done("Ordered both; BUNDLE15 did not apply either."),
                ),
            ),
        ],
    ),
    make_task(
        "coupon_remaining_uses",
        "discriminative",
        "How many more times can coupon VIP15 be used, and until which date is it valid?",
        topics=COUPON_LIMITS,
        setup=StoreSetup(
            coupons=(
                coupon(
                    "VIP15",
                    "15% off everything, up to 5 uses",
                    percent=15,
                    uses_left=3,
                    max_uses=5,
                    expires="2025-04-30",
                ),
                coupon("WELCOME10", "10% off your order", percent=10, uses_left=100),
            )
        ),
        policy=[
            coupon_details("VIP15"),
            done("VIP15 can be used 3 more times and is valid until 2025-04-30."),
        ],
        check=expect_answer(r"\b3\b", r"2025-04-30|april 30", what="3 remaining uses and the date 2025-04-30"),
        mistakes=[
            (
                0,
                mistake(
                    "answers_from_headline",
                    ["coupon_limits"],
                    1.3,
                    coupons(),
                    done("VIP15 can be used 5 times; no expiry date is listed."),
                ),
            ),
        ],
        guess="VIP15 can be used 5 more times, until the end of the year.",
    ),
    make_task(
        "wireless_pair_budget",
        "discriminative",
        "Buy one wireless keyboard and one wireless mouse; the total must not exceed $100.",
        topics=["budget", "stock"],
        policy=[
            search("wireless keyboard"),
            search("wireless mouse"),
            add("KB-W59"),
            add("MS-W39"),
            checkout(),
            done("Ordered the K380 keyboard and the M240 mouse for $98.00."),
        ],
        check=expect_order({"KB-W59": 1, "MS-W39": 1}, max_total=100),
        mistakes=[
            (
                2,
                mistake(
                    "over_budget",
                    ["budget"],
                    0.4,
                    add("KB-W79"),
                    add("MS-W39"),
                    checkout(),
                    done("Ordered the MX Keys Mini and the M240."),
                ),
            ),
            (
                3,
                mistake(
                    "ignores_stock",
                    ["stock"],
                    0.2,
                    add("MS-W29"),
                    add("MS-WIRED"),
                    checkout(),
                    done("The M185 was sold out, so I took the M90 mouse."),
                ),
            ),
        ],
    ),
    make_task(
        "hdmi_bulk",
        "discriminative",
        "Buy 6 HDMI 2.1 cables of the same model: the cheapest model that has 6 in stock.",
        topics=["stock", "budget"],
        policy=[search("HDMI 2.1"), add("CBL-HDMI-B", 6), checkout(), done("Ordered 6 HDMI 2.1 Pro cables.")],
        check=expect_order({"CBL-HDMI-B": 6}),
        mistakes=[
            (
                1,
                mistake(
                    "ignores_stock",
                    ["stock"],
                    0.5,
                    add("CBL-HDMI-A", 6),
                    add("CBL-HDMI-A", 4),
                    checkout(),
                    done("Ordered the 4 Basic cables that were in stock."),
                ),
            ),
            (
                1,
                mistake(
                    "mixes_models",
                    ["stock"],
                    -0.8,
                    add("CBL-HDMI-A", 4),
                    add("CBL-HDMI-B", 2),
                    checkout(),
                    done("Ordered 4 Basic and 2 Pro cables."),
                ),
            ),
        ],
    ),
    make_task(
        "book_budget_coupon",
        "discriminative",
        "Buy the most expensive book you can get for at most $30 after discounts. Coupon BOOKS5 may help.",
        topics=["budget", "coupons"],
        setup=StoreSetup(
            coupons=(coupon("BOOKS5", "$5 off books", dollars_off=5, min_basket=25, categories=["books"]),)
        ),
        policy=[
            list_products("books"),
            coupon_details("BOOKS5"),
            add("BK-34"),
            apply("BOOKS5"),
            checkout(),
            done("Ordered The Pragmatic Programmer for $29.00 with BOOKS5."),
        ],
        check=expect_order({"BK-34": 1}, coupon="BOOKS5", max_total=30),
        mistakes=[
            (
                1,
                mistake(
                    "ignores_coupon",
                    ["coupons", "budget"],
                    0.5,
                    add("BK-28"),
                    checkout(),
                    done("Ordered Fluent Python for $28.00."),
                ),
            ),
            (
                2,
                mistake(
                    "over_budget",
                    ["budget"],
                    -0.5,
                    add("BK-38"),
                    apply("BOOKS5"),
                    checkout(),
                    done("Ordered Designing Data-Intensive Applications with BOOKS5."),
                ),
            ),
        ],
    ),
)
