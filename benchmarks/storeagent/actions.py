"""The schema-guided-reasoning (SGR) reply: what the model must return at every step.

Each step the model fills in :class:`NextStep`: a short summary of the state, a short plan, and exactly one
action, either a store tool call or a final answer (``done`` with a claim, or ``refuse`` with a reason). The
action is a union discriminated by its ``tool`` field, so a JSON reply names the tool and carries exactly that
tool's arguments. Every field is required (nullable where optional) so that the schema is accepted by OpenAI's
strict structured outputs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListProducts(_Action):
    """List the catalogue, optionally only one category."""

    tool: Literal["list_products"] = "list_products"
    category: str | None = Field(description="a category such as 'gpu', or null for every product")


class SearchProducts(_Action):
    """Products whose name or category contains every word of the query."""

    tool: Literal["search_products"] = "search_products"
    query: str


class GetProduct(_Action):
    """One product's details, stock included."""

    tool: Literal["get_product"] = "get_product"
    sku: str


class AddToBasket(_Action):
    """Add units of a product to the basket (no more than are in stock)."""

    tool: Literal["add_to_basket"] = "add_to_basket"
    sku: str
    quantity: Annotated[int, Field(ge=1)]


class RemoveFromBasket(_Action):
    """Remove a product's whole line from the basket."""

    tool: Literal["remove_from_basket"] = "remove_from_basket"
    sku: str


class ViewBasket(_Action):
    """The basket's lines, subtotal, coupon, discount and total."""

    tool: Literal["view_basket"] = "view_basket"


class ListCoupons(_Action):
    """Coupon codes with their headlines only (limits are in get_coupon)."""

    tool: Literal["list_coupons"] = "list_coupons"


class GetCoupon(_Action):
    """A coupon's details: discount, categories, minimum basket, remaining uses, expiry, status."""

    tool: Literal["get_coupon"] = "get_coupon"
    code: str


class ApplyCoupon(_Action):
    """Apply a coupon to the basket (one coupon per order; replaces the current one)."""

    tool: Literal["apply_coupon"] = "apply_coupon"
    code: str


class RemoveCoupon(_Action):
    """Remove the applied coupon."""

    tool: Literal["remove_coupon"] = "remove_coupon"


class Checkout(_Action):
    """Place the order for the current basket."""

    tool: Literal["checkout"] = "checkout"


class Done(_Action):
    """Final answer: the task is complete; ``message`` is the claim or the answer to the question."""

    tool: Literal["done"] = "done"
    message: str


class Refuse(_Action):
    """Final answer: the request cannot be fulfilled; nothing more will be done."""

    tool: Literal["refuse"] = "refuse"
    reason: str


ToolCall = (
    ListProducts
    | SearchProducts
    | GetProduct
    | AddToBasket
    | RemoveFromBasket
    | ViewBasket
    | ListCoupons
    | GetCoupon
    | ApplyCoupon
    | RemoveCoupon
    | Checkout
)
FinalAnswer = Done | Refuse
Action = ToolCall | FinalAnswer

TOOL_CALL_TYPES: tuple[type[_Action], ...] = (
    ListProducts,
    SearchProducts,
    GetProduct,
    AddToBasket,
    RemoveFromBasket,
    ViewBasket,
    ListCoupons,
    GetCoupon,
    ApplyCoupon,
    RemoveCoupon,
    Checkout,
)
READ_ONLY_TOOLS = frozenset(
    {"list_products", "search_products", "get_product", "view_basket", "list_coupons", "get_coupon"}
)


class NextStep(BaseModel):
    """One SGR step: think (state, plan), then act (exactly one action)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: str = Field(description="what is known so far, in one or two sentences")
    plan: Annotated[list[str], Field(min_length=1, max_length=5, description="the next few steps, briefly")]
    action: Annotated[Action, Field(discriminator="tool")]


def is_final(action: Action) -> bool:
    return isinstance(action, Done | Refuse)


def describe_action(action: Action) -> str:
    """``apply_coupon(code='SAVE15')``: a compact, stable rendering for plans and transcripts."""
    arguments = action.model_dump(exclude={"tool"})
    rendered = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
    return f"{action.tool}({rendered})"
