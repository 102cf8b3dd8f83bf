"""gdm's open documents (documents.py): an incremental `didChange` lands where LSP says, in every
position encoding, and where pygls 2.1's own document lands it whenever pygls counts lines as LSP does."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.workspace import PositionCodec, TextDocument, Workspace

from gdm.documents import Document, Documents, adopt
from gdm.server import GdmServer

ENCODINGS = (lsp.PositionEncodingKind.Utf16, lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf32)
UNITS = {lsp.PositionEncodingKind.Utf16: lambda c: 2 if ord(c) > 0xFFFF else 1,
         lsp.PositionEncodingKind.Utf8: lambda c: len(c.encode()),
         lsp.PositionEncodingKind.Utf32: lambda c: 1}


def lsp_offset(text: str, line: int, character: int, encoding: str) -> int:
    """The spec's offset, the slow way: lines end at \\n, \\r\\n or \\r only; a column past a line's
    end is its end; a line past the document's end is its end; a column inside a character is after it."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = len(text) if line + 1 >= len(starts) else starts[line + 1]
    content = text[start:end].rstrip("\r\n")
    units, at = 0, 0
    while at < len(content) and units < character:
        units += UNITS[encoding](content[at])
        at += 1
    return start + at


def change(start: tuple[int, int], end: tuple[int, int], text: str) -> lsp.TextDocumentContentChangePartial:
    return lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(*start), lsp.Position(*end)), text=text)


def doc(text: str, encoding: str = lsp.PositionEncodingKind.Utf16) -> Document:
    return Document("file:///w/a.py", text, version=1, position_codec=PositionCodec(encoding))


PIECES = st.sampled_from(["a", "bc", " ", "\n", "\r\n", "\r", "é", "😋", "\t", "xyz", "\u00a0"])
TEXTS = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.integers(0, 8), st.integers(0, 12), st.integers(0, 8), st.integers(0, 12), TEXTS,
       st.sampled_from(ENCODINGS))
def test_a_change_lands_at_the_offsets_the_spec_gives(text, l1, c1, l2, c2, new, encoding):
    (l1, c1), (l2, c2) = sorted([(l1, c1), (l2, c2)])
    document = doc(text, encoding)
    document.apply_change(change((l1, c1), (l2, c2), new))
    start, end = lsp_offset(text, l1, c1, encoding), lsp_offset(text, l2, c2, encoding)
    assert document.source == text[:start] + new + text[max(start, end):]


def test_typing_a_file_character_by_character_gives_the_same_text_as_pygls():
    rnd = random.Random(7)
    base = "".join(rnd.choice(["def f(x):\n", "    return x  # é\n", "\n", "s = '😋'\n"]) for _ in range(300))
    ours, theirs = doc(base), TextDocument("file:///w/a.py", base, version=1)
    for _ in range(400):
        lines = ours.source.split("\n")
        line = rnd.randrange(len(lines))
        units = len(lines[line].encode("utf-16-le")) // 2
        column = rnd.randint(0, units)
        if rnd.random() < 0.2 and column:  # a backspace (never inside the emoji: pygls rounds that up too)
            prior = lines[line][:column]
            if prior and ord(prior[-1]) <= 0xFFFF and "😋" not in lines[line]:
                edit = change((line, column - 1), (line, column), "")
            else:
                edit = change((line, column), (line, column), "z")
        else:
            edit = change((line, column), (line, column), rnd.choice(["a", "(", "\n", "é", "😋"]))
        if "😋" in lines[line]:
            edit = change((line, 0), (line, 0), edit.text)  # pygls and LSP agree at a line's start
        ours.apply_change(edit)
        theirs.apply_change(edit)
        assert ours.source == theirs.source


def test_an_edit_after_a_form_feed_lands_on_the_line_the_editor_means():
    # splitlines breaks at \f (and \v, \x1c-\x1e, NEL, U+2028/9); editors and LSP do not.
    text = "a = 1\n\x0c\nb = 2\n"
    ours, theirs = doc(text), TextDocument("file:///w/a.py", text, version=1)
    edit = change((2, 0), (2, 1), "c")  # the editor's line 2 is "b = 2"
    ours.apply_change(edit)
    theirs.apply_change(edit)
    assert ours.source == "a = 1\n\x0c\nc = 2\n"
    assert theirs.source != ours.source  # pygls counted "\x0c" as a line of its own


def test_a_column_past_a_last_line_without_newline_is_its_end():
    document = doc("abc")
    document.apply_change(change((0, 9), (0, 9), "!"))
    assert document.source == "abc!"
    document.apply_change(change((5, 0), (5, 0), "?"))  # a line past the end: the end
    assert document.source == "abc!?"


def test_the_server_s_workspace_makes_gdm_documents():
    server = GdmServer()
    server.ls.protocol._workspace = Workspace("file:///w", lsp.TextDocumentSyncKind.Incremental)
    workspace = server.ls.workspace
    assert isinstance(workspace, Documents)
    workspace.put_text_document(lsp.TextDocumentItem("file:///w/a.py", "python", 1, "x = 1\n"))
    opened = workspace.get_text_document("file:///w/a.py")
    assert isinstance(opened, Document)
    workspace.update_text_document(lsp.VersionedTextDocumentIdentifier(2, "file:///w/a.py"),
                                   change((0, 4), (0, 5), "2"))
    assert opened.source == "x = 2\n" and opened.version == 2
    assert adopt(None) is None
