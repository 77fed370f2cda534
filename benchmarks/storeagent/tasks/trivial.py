"""Trivial tasks: one obvious product or one lookup. Every reasonable config solves them."""

from __future__ import annotations

from .catalogue import coupon
from .checks import expect_answer, expect_order
from .dsl import add, apply, checkout, done, search
from .model import StoreSetup, Task, make_task, mistake

TRIVIAL_TASKS: tuple[Task, ...] = (
    make_task(
        "buy_usb_cable",
        "trivial",
        "Buy one USB-C cable (1 m).",
        topics=["basics"],
        policy=[search("USB-C cable"), add("CBL-USBC1"), checkout(), done("Ordered one USB-C cable 1 m.")],
        check=expect_order({"CBL-USBC1": 1}),
    ),
    make_task(
        "price_lookup",
        "trivial",
        "How much does the Logitech MX Master 3S mouse cost? Answer with its price.",
        topics=["basics"],
        policy=[search("MX Master 3S"), done("The Logitech MX Master 3S costs $99.00.")],
        check=expect_answer(r"\$?\b99(\.00)?\b", what="the price $99.00"),
        guess="It costs about $79.",
    ),
    make_task(
        "stock_check",
        "trivial",
        "How many Kindle Paperwhite e-readers are in stock right now?",
        topics=["basics", "stock"],
        policy=[search("Kindle Paperwhite"), done("7 Kindle Paperwhite e-readers are in stock.")],
        check=expect_answer(r"\b7\b", what="7 units in stock"),
        guess="The Kindle Paperwhite is in stock.",
    ),
    make_task(
        "buy_two_notebooks",
        "trivial",
        "Buy two A5 dotted notebooks.",
        topics=["basics"],
        policy=[search("notebook"), add("NB-A5", 2), checkout(), done("Ordered two A5 dotted notebooks.")],
        check=expect_order({"NB-A5": 2}),
    ),
    make_task(
        "buy_espresso_beans",
        "trivial",
        "Order a 1 kg bag of espresso beans.",
        topics=["basics"],
        policy=[
            search("espresso beans"),
            add("COF-BEANS"),
            checkout(),
            done("Ordered 1 kg of espresso beans."),
        ],
        check=expect_order({"COF-BEANS": 1}),
    ),
    make_task(
        "welcome_coupon",
        "trivial",
        "Buy the wired mechanical keyboard and use the coupon WELCOME10.",
        topics=["basics", "coupons"],
        setup=StoreSetup(coupons=(coupon("WELCOME10", "10% off your order", percent=10, uses_left=100),)),
        policy=[
            search("mechanical keyboard"),
            add("KB-MECH"),
            apply("WELCOME10"),
            checkout(),
            done("Ordered the mechanical keyboard with WELCOME10."),
        ],
        check=expect_order({"KB-MECH": 1}, coupon="WELCOME10"),
        mistakes=[(2, mistake("forgets_coupon", ["coupons"], -3.0, checkout(), done("Ordered the keyboard.")))],
    ),
)
