"""Model-call failures: LLMError, and the rules that classify what litellm raises.

Split from llm.py, which still owns the litellm import and passes the module in: these rules
only read exception types and attributes. Every failure becomes an LLMError whose `kind` the
agent can act on and whose `message` a user can act on.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

RETRYABLE_KINDS = frozenset({"rate_limit", "server", "timeout", "connection"})


class LLMError(Exception):
    """A model call that failed, classified.

    kind: "config", "auth", "rate_limit", "server", "timeout", "connection", "bad_request",
    "bad_response", "circuit_open" (not called: the breaker refused). `message` is one sentence a user can act on. `partial_text` is the text
    already passed to on_text when a stream broke (such calls are not retried).
    """

    def __init__(self, kind: str, message: str, retryable: bool | None = None, *,
                 model: str | None = None, status: int | None = None,
                 retry_after_s: float | None = None, partial_text: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = kind in RETRYABLE_KINDS if retryable is None else retryable
        self.model = model
        self.status = status
        self.retry_after_s = retry_after_s
        self.partial_text = partial_text
        self.circuit_opened = False  # this failure opened the model's circuit breaker


# -- classifying litellm's exceptions --------------------------------------------------------

_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)\s*(?::|-)\s*)+")
_MISSING_KEY = re.compile(r"(?i)missing credentials|api_key client option must be set")


# rule -> (LLMError kind, message template); _rule() decides which applies.
_MESSAGES = {
    "not_json": ("bad_response", "The model server for {model}{where} sent a reply that is not valid JSON "
                 "(a proxy error page?): check gdm.apiBase. ({detail})"),
    "timeout": ("timeout", "The model {model} did not answer within {timeout:g} s: try again, or pick a faster model."),
    "auth": ("auth", "The provider rejected the API key for {model}: check {key}. ({detail})"),
    "rate_limit": ("rate_limit", "The provider is rate-limiting {model}: wait and try again, or set "
                   "gdm.fallbackModel. ({detail})"),
    "context": ("bad_request", "The conversation is too long for {model}'s context window: start a new task "
                "or ask about less code."),
    "not_found": ("bad_request", "The provider does not know the model {model}: check gdm.model. ({detail})"),
    "no_key": ("config", "No API key for {model}: set {needed}, or name the variable that holds it in gdm.apiKeyEnv."),
    "connection": ("connection", "Lost or could not open the connection to the model server for {model}{where}: "
                   "check that it is running and reachable. ({detail})"),
    "refused": ("bad_request", "The provider refused the request for {model}{http}: {detail}"),
    "unreadable": ("bad_response", "The reply from {model} could not be read: {detail}"),
    "server": ("server", "The model server for {model} failed{http}: try again later, or set "
               "gdm.fallbackModel. ({detail})"),
}


def classify(exc: BaseException, model: str, config: Any, litellm: Any) -> LLMError | None:
    """Map an exception from a litellm call to an LLMError, or None if it is not a call failure.

    `config` is the call's ModelConfig; `litellm` the imported module (llm.py owns the import).
    """
    chain = _exception_chain(exc)
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    rule = _rule(chain, status, litellm)
    if rule is None:
        return None
    needed = ""
    if rule == "no_key":
        needed = ", ".join(litellm.validate_environment(model=model).get("missing_keys") or ["the provider's key"])
    return _error(rule, model, config, status, _detail(exc), _retry_after(chain), needed)


def _error(rule: str, model: str, config: Any, status: int | None, detail: str, retry_after_s: float | None,
           needed: str = "") -> LLMError:
    """The LLMError of a rule, its message filled in from the call."""
    kind, template = _MESSAGES[rule]
    message = template.format(
        model=model, where=f" at {config.api_base}" if config.api_base else "", detail=detail,
        timeout=config.timeout_s, key=config.api_key_env or "the provider's API key variable",
        needed=needed, http=f" (HTTP {status})" if status else "",
    )
    return LLMError(kind, message, model=model, status=status, retry_after_s=retry_after_s)


def from_http(model: str, config: Any, *, status: int | None = None, exc: BaseException | None = None,
              detail: str = "", retry_after: str | None = None) -> LLMError:
    """The LLMError of a call gdm made over HTTP itself (models/openai_fim.py): the same kinds and
    messages as litellm's failures get, from the HTTP status or the transport's exception."""
    import httpx  # a litellm dependency, already loaded with it

    if isinstance(exc, httpx.TimeoutException):
        rule = "timeout"
    elif isinstance(exc, json.JSONDecodeError):
        rule = "not_json"
    elif isinstance(exc, (httpx.TransportError, OSError)):
        rule = "connection"
    elif status in (401, 403):
        rule = "auth"
    elif status == 429:
        rule = "rate_limit"
    elif status == 404:
        rule = "not_found"
    elif status is not None and status >= 500:
        rule = "server"
    else:
        rule = "refused"
    text = _clip(detail) if detail else (_detail(exc) if exc is not None else "")
    return _error(rule, model, config, status, text, _seconds(retry_after))


def _rule(chain: list[BaseException], status: int | None, litellm: Any) -> str | None:
    """Which failure this is. The whole cause chain counts: litellm wraps transport and parse
    errors in status-looking ones (a garbage body arrives as InternalServerError 500)."""
    import httpx  # a litellm dependency, already loaded with it

    def has(*types: type) -> bool:
        return any(isinstance(item, types) for item in chain)

    if has(json.JSONDecodeError):
        return "not_json"
    if has(litellm.Timeout, httpx.TimeoutException, asyncio.TimeoutError):
        return "timeout"
    if has(litellm.AuthenticationError, litellm.PermissionDeniedError):
        return "auth"
    if has(litellm.RateLimitError):
        return "rate_limit"
    if has(litellm.ContextWindowExceededError):
        return "context"
    if has(litellm.NotFoundError):
        return "not_found"
    if any(_MISSING_KEY.search(str(item)) for item in chain):
        return "no_key"  # the OpenAI client's own refusal, which litellm reports as a 500
    if has(httpx.TransportError, OSError):
        return "connection"
    if has(litellm.BadRequestError, litellm.UnprocessableEntityError):
        return "refused"
    if has(litellm.APIConnectionError):
        return "unreadable"  # no transport error underneath: a malformed stream (no finish_reason)
    if has(litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError):
        return "server"
    if status is not None:
        return "server" if status >= 500 else "refused"
    return "refused" if has(litellm.APIError) else None


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = getattr(current, "original_exception", None) or current.__cause__ or current.__context__
    return chain


def _detail(exc: BaseException) -> str:
    """The provider's own words, without litellm's stacked class-name prefixes."""
    text = getattr(exc, "message", None) or str(exc)
    return _clip(_PREFIXES.sub("", str(text)).strip())


def _clip(text: str) -> str:
    return text if len(text) <= 300 else text[:297] + "..."


def _retry_after(chain: list[BaseException]) -> float | None:
    for item in chain:
        headers = getattr(item, "litellm_response_headers", None)
        if headers is None:
            headers = getattr(getattr(item, "response", None), "headers", None)
        value = headers.get("retry-after") if headers is not None else None
        if value is not None:
            return _seconds(value)
    return None


def _seconds(value: str | None) -> float | None:
    """A Retry-After header's seconds; None for none or an HTTP date (rare for model APIs: our own backoff)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
