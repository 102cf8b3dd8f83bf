"""`gdm acp`: the Agent Client Protocol front end (Zed, JetBrains, CodeCompanion, acpx…).

The same engine as the language server (agent.session.Session, the store, budgets, tools), driven
over ACP v1 on stdio. This package is the one boundary that imports the `acp` SDK; nothing here
imports pygls. DESIGN.md's section "ACP: the same engine…" is the contract.

    main.py      the entry point: stdout kept for JSON-RPC only, then the connection
    transport.py newline-delimited JSON-RPC that answers malformed input instead of dropping it
    agent.py     the acp.Agent: initialize, session/new|load|prompt|cancel|set_mode
    state.py     one ACP session: its gdm Session, settings, mode, running prompt
    turn.py      one session/prompt: engine events → session/update, then review
    mapping.py   pure mapping of engine events and patches to ACP updates
    outbox.py    updates sent in order without the engine waiting on the pipe
    buffers.py   the BufferSource that reads through `fs/read_text_file`
    review.py    each patch put to the user (`session/request_permission`) and applied
    applier.py   writes through `fs/write_text_file` (else atomically to disk)
    history.py   `session/load`: the stored session replayed as updates
    prompt.py    prompt content blocks → the task's prompt and focus; slash commands
"""
