#!/bin/sh
# An MCP stdio server that forks a sleeper and never answers; $1 marks both for the test to find.
sh -c "sleep 300; : $1" &
exec sh -c "sleep 301; : $1"
