#!/usr/bin/env python3
"""A minimal evalh/1 agent: read one request from stdin, print one envelope on stdout."""
import json, random, sys

request = json.loads(sys.stdin.readline())
task = request["task"]
rng = random.Random(request["seed"])          # deterministic per trial: same --seed, same answers
answer = f"You asked: {task['input']}"
if rng.random() < 0.2:                        # a flaky agent, for the sake of the example
    answer = "Sorry, I lost the thread."
print(json.dumps({
    "output": answer,
    "usage": {"input_tokens": len(str(task["input"])) // 4 + 50, "output_tokens": len(answer) // 4},
    "steps": [{"type": "tool_call", "name": "echo", "arguments": {"text": task["input"]}, "ok": True}],
}))
