"""The embedded example: a simulated web store, its benchmark tasks and a schema-guided-reasoning agent.

``run_agent(task, config, seed=...)`` runs one trial. By default the model is SIMULATED in-process (see
:mod:`.simulated` and ``benchmarks/README.md``); ``params.backend = "openai"`` drives the same loop with a
real OpenAI-compatible endpoint.
"""

from __future__ import annotations

from .actions import Action, FinalAnswer, NextStep, ToolCall
from .backends import make_client
from .llm import LLMClient, Message, ModelReply, estimate_prompt_tokens, estimate_text_tokens
from .loop import AgentResult, StepRecord, run_agent
from .params import ExampleParams, example_params
from .scripted import ScriptedClient
from .store import SIMULATED_TODAY, Coupon, Order, Product, Store, StoreError
from .tasks import CATEGORIES, TASKS, TASKS_BY_CODE, Task

__all__ = [
    "CATEGORIES",
    "SIMULATED_TODAY",
    "TASKS",
    "TASKS_BY_CODE",
    "Action",
    "AgentResult",
    "Coupon",
    "ExampleParams",
    "FinalAnswer",
    "LLMClient",
    "Message",
    "ModelReply",
    "NextStep",
    "Order",
    "Product",
    "ScriptedClient",
    "StepRecord",
    "Store",
    "StoreError",
    "Task",
    "ToolCall",
    "estimate_prompt_tokens",
    "estimate_text_tokens",
    "example_params",
    "make_client",
    "run_agent",
]
