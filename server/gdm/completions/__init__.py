"""Inline completions (DESIGN.md, "Inline completions"): ghost text at the cursor.

`prompt.py` builds what the model reads (the buffer's prefix and suffix within budgets, and the
signatures of the definitions the code around the cursor names, from the code map); `engine.py`
decides whether a request reaches the model at all (debounce, typing-through, a cache, one call in
flight per document, the day budget) and counts what each call cost. No pygls here: the LSP
handler is features/inline_completion.py.
"""
