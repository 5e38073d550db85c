"""An evalh/1 agent that reaches its tools through the official MCP Python SDK (`pip install mcp`).

evalh serves the trial's tools at EVALH_MCP_URL (Streamable HTTP); every call this agent makes is
checked against the tool's schema and recorded by evalh. The policy here is a few lines of rules
(look the order up, refund it when asked); a real agent puts a model where the rules are.
"""
import asyncio
import json
import os
import re
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client


async def main():
    request = json.loads(sys.stdin.read())
    text = str(request["task"]["input"])
    order_id = (re.search(r"A\d{3}", text) or re.search(r"\w+", text)).group(0)
    steps = []

    async with streamablehttp_client(os.environ["EVALH_MCP_URL"]) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()

            async def call(name, arguments):
                steps.append({"type": "tool_call", "name": name, "arguments": arguments})
                result = await session.call_tool(name, arguments)
                return result.structuredContent or {}, bool(result.isError)

            order, _ = await call("lookup_order", {"order_id": order_id})
            if "refund" not in text.lower() and "money back" not in text.lower():
                output = {"order_id": order_id, "status": order.get("status")}
            elif order.get("days_since_delivery", 0) > 30:
                output = f"Order {order_id} is past the 30-day refund window, so I cannot refund it."
            else:
                await call("issue_refund", {"order_id": order_id, "amount": order.get("total", 0)})
                output = {"order_id": order_id, "refunded": order.get("total", 0)}

    print(json.dumps({"output": output, "steps": steps}))


asyncio.run(main())
