"""Inline completions (`textDocument/inlineCompletion`), the engine below `features/` (no pygls):

- prompt.py: the buffer's prefix and suffix within budgets, the fill-in-the-middle prompt and the
  chat "hole filler" for models without one;
- context.py: the definitions the code around the cursor names, found through the code map, and the
  places the user worked at last in other files;
- clean.py: the model's text made into a suggestion (fences, echoes, overlap with what follows);
- caller.py: one model call, fill-in-the-middle where the model has it, else chat;
- accounting.py: budget, cost and what became of each suggestion (shown, accepted partly, accepted);
- engine.py: per document: the cache, typing-through, the debounce, one call in flight.
"""
