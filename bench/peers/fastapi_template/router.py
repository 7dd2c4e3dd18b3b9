"""The template's intent routing and response generation (llm_router.py),
with keyword rules in place of the LLM: no network call, so the peer
measures the web framework and the database, as Parley is measured with the
mock LLM at zero latency."""

import re
from dataclasses import dataclass, field

ORDER_ID = re.compile(r"\b(?:ORD-?)?(\d{4,})\b", re.IGNORECASE)

ORDERS = {
    "1001": {"status": "shipped", "eta": "2 days"},
    "1002": {"status": "processing", "eta": "5 days"},
}

INTENTS = [
    ("greeting", ("hi", "hello", "hey", "good morning")),
    ("order_status", ("order", "package", "delivery", "tracking")),
    ("refund", ("refund", "money back", "return")),
    ("human", ("human", "agent", "person")),
]


@dataclass
class ChatState:
    """Kept in memory per connection, as in the template."""

    intent: str = ""
    user_data: dict = field(default_factory=dict)


def get_intent(text):
    words = text.lower()
    for intent, keywords in INTENTS:
        if any(re.search(r"\b" + re.escape(k) + r"\b", words) for k in keywords):
            return intent
    return "knowledge"


def get_order(order_id):
    return ORDERS.get(order_id)


async def get_response(text, state):
    intent = get_intent(text)
    if intent == "order_status" or state.intent == "order_status":
        match = ORDER_ID.search(text)
        if not match:
            state.intent = "order_status"
            return "Sure, what is your order number?"
        state.intent = ""
        order = get_order(match.group(1))
        if order is None:
            return f"I could not find order {match.group(1)}."
        return (f"Order {match.group(1)} is {order['status']}; "
                f"expected in {order['eta']}.")
    state.intent = intent
    if intent == "greeting":
        return ("Hello! I can check an order's status, help with a refund, "
                "or answer questions about returns, shipping and payments. "
                "What can I do for you?")
    if intent == "refund":
        return "Refunds are issued within 14 days of the return's arrival."
    if intent == "human":
        return "Let me put you in touch with our team."
    return "I am not sure; could you tell me more?"
