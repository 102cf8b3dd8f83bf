"""The message gate's structuring on its own: a large malformed message fails at its first fault
(cattrs' detailed validation collected one error per element: a 100,000-character string where a
list belongs took 9 s, and 27 s more to log, stalling the server), a small one is named in detail."""

import pytest
from cattrs.errors import BaseValidationError
from pygls.exceptions import JsonRpcException

from gdm.features.protocol import _summary
from gdm.server import GdmServer

ZERO = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}


@pytest.fixture(scope="module")
def protocol():
    return GdmServer().ls.protocol


def _fails(protocol, params: dict, method: str = "textDocument/codeAction") -> BaseException:
    with pytest.raises(JsonRpcException) as caught:
        protocol.structure_message({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    return caught.value.__cause__ or caught.value


def test_a_large_malformed_message_fails_at_its_first_fault(protocol):
    cause = _fails(protocol, {"textDocument": {"uri": "file:///a.py"}, "range": ZERO,
                              "context": {"diagnostics": "x" * 100_000}})
    assert not isinstance(cause, BaseValidationError)  # no group of 100,000 errors was collected
    assert "wrong type" in _summary(cause)


def test_a_small_malformed_message_names_the_field(protocol):
    cause = _fails(protocol, {"textDocument": {"uri": "file:///a.py"},
                              "position": {"line": -1, "character": 0}}, method="textDocument/hover")
    assert isinstance(cause, BaseValidationError)
    assert "Position.line" in _summary(cause)
    missing = _fails(protocol, {"textDocument": {"uri": "file:///a.py"}, "position": {"character": 0}},
                     method="textDocument/hover")
    assert "line" in _summary(missing)


def test_well_formed_messages_structure_as_before(protocol):
    message = protocol.structure_message({"jsonrpc": "2.0", "id": 7, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": "file:///a.py"}, "range": ZERO, "context": {"diagnostics": []}}})
    assert message.id == 7 and message.params.range.start.line == 0
    assert protocol._converter is not protocol._quick_converter  # replies are still unstructured as before
