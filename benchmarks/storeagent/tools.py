"""The store's tools as the agent sees them: a catalogue for the prompt and one dispatcher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .actions import (
    TOOL_CALL_TYPES,
    AddToBasket,
    ApplyCoupon,
    Checkout,
    GetCoupon,
    GetProduct,
    ListCoupons,
    ListProducts,
    RemoveCoupon,
    RemoveFromBasket,
    SearchProducts,
    ToolCall,
    ViewBasket,
)
from .store import Store, StoreError


@dataclass(frozen=True)
class ToolResult:
    """What one tool call returned: a payload, or the store's error message."""

    tool: str
    ok: bool
    payload: Any

    def as_message(self) -> str:
        """The text appended to the conversation."""
        body = self.payload if self.ok else {"error": self.payload}
        return f"TOOL RESULT {self.tool}: {json.dumps(body, separators=(',', ':'))}"


def execute_tool(store: Store, call: ToolCall) -> ToolResult:
    """Run one tool call against ``store``; store errors become an unsuccessful result, never an exception."""
    try:
        payload = _dispatch(store, call)
    except StoreError as exc:
        return ToolResult(tool=call.tool, ok=False, payload=str(exc))
    return ToolResult(tool=call.tool, ok=True, payload=payload)


def _dispatch(store: Store, call: ToolCall) -> Any:
    match call:
        case ListProducts(category=category):
            return store.list_products(category)
        case SearchProducts(query=query):
            return store.search_products(query)
        case GetProduct(sku=sku):
            return store.get_product(sku)
        case AddToBasket(sku=sku, quantity=quantity):
            return store.add_to_basket(sku, quantity)
        case RemoveFromBasket(sku=sku):
            return store.remove_from_basket(sku)
        case ViewBasket():
            return store.view_basket()
        case ListCoupons():
            return store.list_coupons()
        case GetCoupon(code=code):
            return store.get_coupon(code)
        case ApplyCoupon(code=code):
            return store.apply_coupon(code)
        case RemoveCoupon():
            return store.remove_coupon()
        case Checkout():
            return store.checkout()
    raise TypeError(f"not a store tool call: {call!r}")  # pragma: no cover - the union above is exhaustive


def tool_catalogue() -> str:
    """One line per tool with its arguments and purpose, for the system prompt."""
    lines = []
    for model in TOOL_CALL_TYPES:
        name = model.model_fields["tool"].default
        arguments = ", ".join(field for field in model.model_fields if field != "tool")
        purpose = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        lines.append(f"- {name}({arguments})" + (f": {purpose}" if purpose else ""))
    return "\n".join(lines)
