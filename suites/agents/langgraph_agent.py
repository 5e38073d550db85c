"""An evalh/1 agent built with LangGraph, its tools evalh's own through langchain-mcp-adapters.

    pip install langgraph langchain-openai langchain-mcp-adapters

The model is any OpenAI-compatible endpoint (OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY); by
default the bundled stand-in (`example-agent serve --port 8080`, model `desk-tools`). Every tool
call the graph makes goes through evalh's endpoint for the trial, where it is checked and recorded.
"""
import asyncio
import json
import os
import sys

from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import create_react_agent


async def main():
    request = json.loads(sys.stdin.read())
    client = MultiServerMCPClient(
        {"evalh": {"url": os.environ["EVALH_MCP_URL"], "transport": "streamable_http"}}
    )
    tools = await client.get_tools()
    model = ChatOpenAI(
        base_url=os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1"),
        model=os.environ.get("OPENAI_MODEL", "desk-tools"),
        api_key=os.environ.get("OPENAI_API_KEY") or "none",
        seed=request["seed"],
    )
    graph = create_react_agent(model, tools)
    result = await graph.ainvoke({"messages": [("user", str(request["task"]["input"]))]})

    messages = result["messages"]
    steps = [
        {"type": "tool_call", "name": call["name"], "arguments": call["args"]}
        for message in messages
        for call in (getattr(message, "tool_calls", None) or [])
    ]
    tokens = [m.usage_metadata for m in messages if getattr(m, "usage_metadata", None)]
    usage = {
        "input_tokens": sum(t["input_tokens"] for t in tokens),
        "output_tokens": sum(t["output_tokens"] for t in tokens),
    }
    print(json.dumps({"output": messages[-1].content, "steps": steps, "usage": usage}))


asyncio.run(main())
