"""A small MCP stdio server built on the official Python SDK (FastMCP): customer records kept in
a file under CRM_DATA_DIR, so a test sees whether each trial got its own server and state."""
import json
import os

from mcp.server.fastmcp import FastMCP

import sys

HTTP_PORT = int(sys.argv[sys.argv.index("--http") + 1]) if "--http" in sys.argv else None
# Over HTTP: JSON answers (no SSE), the way evalh's client reads a Streamable HTTP server on Linux.
mcp = FastMCP("crm", port=HTTP_PORT or 8000, json_response=True)
DATA = os.path.join(os.environ["CRM_DATA_DIR"], "crm.json")


def load():
    try:
        with open(DATA) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"customers": {"c1": {"name": "Ada", "city": "Paris"}}, "writes": 0}


@mcp.tool()
def find_customer(customer_id: str) -> dict:
    """Find a customer by id."""
    return load()["customers"].get(customer_id, {})


@mcp.tool()
def update_city(customer_id: str, city: str) -> dict:
    """Move a customer to another city."""
    data = load()
    data["customers"][customer_id]["city"] = city
    data["writes"] += 1
    with open(DATA, "w") as f:
        json.dump(data, f)
    return {"ok": True, "writes": data["writes"]}


@mcp.tool()
def secret_admin_tool() -> str:
    """Not served: the suite lists only some tools."""
    return "should not be reachable"


if __name__ == "__main__":
    mcp.run("streamable-http" if HTTP_PORT else "stdio")
