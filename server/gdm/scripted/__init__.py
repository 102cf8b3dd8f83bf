"""The scripted model: an HTTP server that answers from a JSON script, in two wire formats.

Used by the demo, the tests, and anyone trying gdm without an API key:
`python -m gdm.scripted fixtures/scripts/<name>.json` prints a base URL to use as gdm.apiBase
with gdm.model `openai/scripted` (OpenAI chat, `POST /v1/chat/completions`), or, without its
`/v1`, with gdm.model `anthropic/<any name>` (Anthropic messages, `POST /v1/messages`; see
anthropic.py). Stdlib only; it never imports litellm.
"""

from gdm.scripted.script import ScriptError, ScriptMismatch, load_script
from gdm.scripted.server import ScriptedModel

__all__ = ["ScriptError", "ScriptMismatch", "ScriptedModel", "load_script"]
