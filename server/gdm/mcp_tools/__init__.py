"""Tools from the user's MCP servers: started lazily per session, fenced and approved like the shell.

`specs` (which servers: settings and the workspace's offers), `client` (the only module importing
the `mcp` SDK), `manager` (the session's servers on a loop of their own), `tools` (the
model-facing `mcp__<server>__<tool>` tools and their gate).
"""
