"""An evalh/1 agent built on the official MCP Python SDK, used by the tests to drive evalh's tool
server with a client nobody here wrote. It reaches the trial's tools over Streamable HTTP
(EVALH_MCP_URL) or, with --stdio, by launching `evalh mcp-stdio` as a stdio server, runs the
calls the task's input lists, and answers with what the client saw of each."""
import asyncio
import json
import os
import sys
import time
from datetime import timedelta

from mcp import ClientSession, McpError
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamablehttp_client


def seen(result):
    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    return {"is_error": bool(result.isError), "text": text, "structured": result.structuredContent}


async def probe(session, calls, out):
    info = await session.initialize()
    listed = await session.list_tools()
    out.update({
        "protocol": info.protocolVersion,
        "server": info.serverInfo.name,
        "tools": [
            {"name": t.name, "input": t.inputSchema, "output": t.outputSchema,
             "read_only": t.annotations.readOnlyHint if t.annotations else None}
            for t in listed.tools
        ],
        "calls": [],
    })
    for call in calls:
        # A call may be given a read timeout: a dropped connection is then seen as the timeout it becomes.
        timeout = call.get("timeout")
        started = time.monotonic()
        try:
            result = await session.call_tool(
                call["tool"], call.get("arguments", {}),
                read_timeout_seconds=timedelta(seconds=timeout) if timeout else None)
            answer = seen(result)
        except McpError as error:
            answer = {"rpc_error": error.error.code, "message": error.error.message}
        except Exception as error:  # the transport failed under the client
            answer = {"transport_error": type(error).__name__}
        answer["seconds"] = time.monotonic() - started
        out["calls"].append(answer)


async def main():
    request = json.loads(sys.stdin.read())
    calls = request["task"]["input"]["calls"]
    out = {}
    try:
        if "--stdio" in sys.argv:
            evalh = sys.argv[sys.argv.index("--stdio") + 1]
            params = StdioServerParameters(command=evalh, args=["mcp-stdio"], env=dict(os.environ))
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    await probe(session, calls, out)
        else:
            async with streamablehttp_client(os.environ["EVALH_MCP_URL"]) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await probe(session, calls, out)
    except BaseException as error:  # the client's session broke (a dropped connection): say so, keep what was seen
        out["session_error"] = type(error).__name__
    steps = [{"type": "tool_call", "name": c["tool"], "arguments": c.get("arguments", {})} for c in calls]
    steps += [{"type": "tool_call", "name": t, "arguments": {}} for t in request["task"]["input"].get("claims", [])]
    print(json.dumps({"output": out, "steps": steps}))


asyncio.run(main())
