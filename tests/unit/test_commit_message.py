"""Commit messages (review/message.py): the subject cut to 72 characters at a word, the cheap
model's reply cleaned, a message without a model from the prompt and the summary, the trailer
added to the trailer block (once), `<model>` in the setting, and "" for none."""

from __future__ import annotations

from gdm.review.message import SUBJECT_MAX, body_of, cut_subject, fallback, from_model, trailer_line, with_trailer


def test_subjects_are_one_line_of_at_most_72_characters_cut_at_a_word():
    assert cut_subject("  Guard   divide.  ") == "Guard divide"
    long = "Make divide raise a clear ZeroDivisionError when the divisor is zero and document it in the docstring"
    cut = cut_subject(long)
    assert len(cut) <= SUBJECT_MAX and long.startswith(cut) and not cut.endswith(" ")
    assert cut == "Make divide raise a clear ZeroDivisionError when the divisor is zero and"
    assert len(cut_subject("x" * 100)) == SUBJECT_MAX


def test_the_models_reply_is_cleaned_and_its_missing_body_filled_in():
    reply = "```\nSubject: Guard divide() against zero.\n\nIt raises now.\n```"
    assert from_model(reply, "fallback body") == "Guard divide() against zero\n\nIt raises now."
    assert from_model("Guard divide", "From the prompt.") == "Guard divide\n\nFrom the prompt."
    assert from_model("Guard divide", "") == "Guard divide"
    assert from_model("", "x") is None and from_model(None, "x") is None and from_model("```\n```", "x") is None


def test_a_message_without_a_model_and_its_body():
    message = fallback("Guard divide\nplease", ["Guard divide\nplease", "divide() raises on zero now."])
    assert message == "Guard divide\n\nGuard divide please\n\ndivide() raises on zero now."  # prose rewrapped
    assert fallback("Fix it", ["Fix it", "Done."]) == "Fix it\n\nDone."  # the subject is not repeated
    assert fallback("", []) == "gdm task"
    wrapped = body_of(["word " * 40])
    assert all(len(line) <= 72 for line in wrapped.splitlines()) and wrapped.count("\n") >= 2
    assert body_of(["```\n" + "code " * 30 + "\n```"]).splitlines()[1].startswith("code code")  # code kept as is


def test_the_trailer_goes_into_the_trailer_block_once():
    line = trailer_line("Assisted-by: gdm (<model>)", "openai/gpt-4.1")
    assert line == "Assisted-by: gdm (openai/gpt-4.1)"
    assert trailer_line("Assisted-by: gdm (<model>)", None) == "Assisted-by: gdm (unknown model)"
    assert with_trailer("Guard divide\n\nBody.", line) == f"Guard divide\n\nBody.\n\n{line}\n"
    signed = "Guard divide\n\nBody.\n\nSigned-off-by: Ada <ada@example.com>"
    assert with_trailer(signed, line) == f"{signed}\n{line}\n"
    assert with_trailer(f"Guard\n\n{line}\n", line) == f"Guard\n\n{line}\n"
    assert with_trailer("Guard divide", "") == "Guard divide\n"
    assert with_trailer("Note: one line only", line) == f"Note: one line only\n\n{line}\n"  # a subject, not trailers
