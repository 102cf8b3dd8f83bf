"""Each grammar wheel's tags.scm through the adapter: definitions (name, kind, 1-based line of the
name), references, and the signatures a map renders — on small real-looking files per language."""

from __future__ import annotations

import pytest

from gdm.context.repomap import treesitter
from gdm.context.repomap.tags import language_of

PYTHON = b'''import os


@decorator
def load(path,
         mode="r"):  # why: a comment after the header
    """Read it."""
    return helper(path)


class Store(Base):
    """Keeps things."""

    LIMIT = 3

    def put(self, key: str) -> None:
        self.save(key)
        load(key)


MAX_SIZE = 10
'''

JAVASCRIPT = b'''class Cart extends Base {
  addItem(item) {
    return total(item);
  }
}

function total(items) {
  return new Cart();
}

const double = (x) => x * 2;
'''

TYPESCRIPT = b'''export interface Shape {
  area(): number;
}

export type Id = string;

export class Square implements Shape {
  area(): number { return side(this); }
}

export function side(s: Shape): Id {
  return "x";
}
'''

TSX = b'''export function Button(props: Props) {
  return <div onClick={() => handle(props)}>{props.label}</div>;
}
'''

GO = b'''package shop

const MaxItems = 10

type Cart struct {
	Items []Item
}

func (c *Cart) Add(it Item) {
	c.Items = append(c.Items, it)
	validate(it)
}

func validate(it Item) error {
	return nil
}
'''

RUST = b'''pub struct Cart {
    items: Vec<Item>,
}

impl Cart {
    pub fn add(&mut self, item: Item) {
        check(&item);
    }
}

pub trait Priced {
    fn price(&self) -> u32;
}

fn check(item: &Item) -> bool {
    true
}
'''

JAVA = b'''package shop;

public class Cart extends Base implements Priced {
    public int total(int count) {
        return helper(count);
    }
}

interface Priced {
    int price();
}
'''

C = b'''#include <stdio.h>

struct cart {
    int count;
};

typedef int money;

static money total(struct cart *c, int extra) {
    return add_tax(c->count) + extra;
}
'''

CPP = b'''namespace shop {
class Cart {
 public:
  int total(int extra);
};
}

int compute(int x) {
  return helper(x);
}
'''

RUBY = b'''module Shop
  class Cart < Base
    def add(item)
      validate(item)
    end
  end
end
'''

# (path, source, {(name, kind, 1-based name line)}, references that must be seen, signatures that must render)
CASES = [
    ("shop.py", PYTHON, {("load", "function", 5), ("Store", "class", 11), ("put", "method", 16),
                         ("MAX_SIZE", "constant", 21)},
     {"helper", "save", "load"}, {'def load(path, mode="r"):', "class Store(Base):", "def put(self, key: str) -> None:"}),
    ("cart.js", JAVASCRIPT, {("Cart", "class", 1), ("addItem", "method", 2), ("total", "function", 7),
                             ("double", "function", 11)},
     {"total", "Cart"}, {"class Cart extends Base", "function total(items)", "addItem(item)"}),
    ("shape.ts", TYPESCRIPT, {("Shape", "interface", 1), ("area", "method", 2), ("Id", "type", 5),
                              ("Square", "class", 7), ("side", "function", 11)},
     {"side", "Shape", "Id"}, {"function side(s: Shape): Id", "interface Shape"}),
    ("button.tsx", TSX, {("Button", "function", 1)}, {"handle"}, {"function Button(props: Props)"}),
    ("cart.go", GO, {("MaxItems", "constant", 3), ("Cart", "type", 5), ("Add", "method", 9),
                     ("validate", "function", 14)},
     {"validate", "Item"}, {"func (c *Cart) Add(it Item)", "func validate(it Item) error"}),
    ("cart.rs", RUST, {("Cart", "class", 1), ("add", "method", 6), ("Priced", "interface", 11),
                       ("check", "function", 15)},
     {"check"}, {"pub fn add(&mut self, item: Item)", "fn check(item: &Item) -> bool", "pub struct Cart"}),
    ("Cart.java", JAVA, {("Cart", "class", 3), ("total", "method", 4), ("Priced", "interface", 9),
                         ("price", "method", 10)},
     {"helper", "Priced"}, {"public class Cart extends Base implements Priced", "public int total(int count)"}),
    ("cart.c", C, {("cart", "class", 3), ("money", "type", 7), ("total", "function", 9)},
     {"add_tax", "count"}, {"static money total(struct cart *c, int extra)"}),
    ("cart.cpp", CPP, {("Cart", "class", 2), ("total", "method", 4), ("compute", "function", 8)},
     {"helper"}, {"int compute(int x)", "class Cart"}),
    ("cart.rb", RUBY, {("Shop", "module", 1), ("Cart", "class", 2), ("add", "method", 3)},
     {"validate"}, {"def add(item)", "class Cart < Base"}),
]


@pytest.fixture(scope="module")
def grammars() -> treesitter.Grammars:
    return treesitter.Grammars()


@pytest.mark.parametrize(("path", "source", "defs", "refs", "signatures"), CASES, ids=[c[0] for c in CASES])
def test_definitions_references_and_signatures(grammars, path, source, defs, refs, signatures):
    lang = language_of(path)
    assert lang is not None
    tags = treesitter.parse(grammars, lang, source)
    got = {(d.name, d.kind, d.line + 1) for d in tags.defs}
    assert defs <= got, f"missing {defs - got}; got {got}"
    assert refs <= set(tags.refs), f"missing references {refs - set(tags.refs)}"
    rendered = {d.signature for d in tags.defs}
    assert signatures <= rendered, f"missing {signatures - rendered}; got {rendered}"
    # Signatures are headers, never bodies.
    assert not any("return" in s for s in rendered)


def test_a_decorated_python_function_is_at_its_def_line_and_methods_nest_under_their_class(grammars):
    tags = treesitter.parse(grammars, "python", PYTHON)
    by_name = {d.name: d for d in tags.defs}
    assert by_name["load"].line + 1 == 5  # `def load`, not the `@decorator` line
    assert tags.defs[by_name["put"].parent].name == "Store"
    assert by_name["put"].start_line + 1 == 16 and by_name["put"].end_line + 1 == 18
    assert "#" not in by_name["load"].signature  # the comment after the header is not part of it


def test_a_definition_is_never_counted_as_its_own_reference(grammars):
    tags = treesitter.parse(grammars, "python", b"def alone():\n    pass\n")
    assert [d.name for d in tags.defs] == ["alone"] and "alone" not in tags.refs


def test_reference_lines_exclude_definitions(grammars):
    lines = treesitter.reference_lines(grammars, "python", PYTHON, "load")
    assert [n + 1 for n in lines] == [18]


def test_unknown_extensions_have_no_grammar():
    assert language_of("notes.md") is None and language_of("Makefile") is None
    assert language_of("a/b/C.JAVA") == "java" and language_of("x.hpp") == "cpp"


def test_broken_source_still_gives_what_parses(grammars):
    tags = treesitter.parse(grammars, "python", b"def ok():\n    return 1\n\ndef broken(:\n  )))\n")
    assert "ok" in {d.name for d in tags.defs} and tags.note == "syntax errors"


def test_incremental_reparse_of_a_buffer_matches_a_fresh_parse(grammars):
    trees = treesitter.TreeCache()
    first = trees.tags(grammars, "shop.py", "python", PYTHON.decode())
    edited = PYTHON.decode().replace("MAX_SIZE = 10", "MAX_SIZE = 10\n\n\ndef added(x):\n    return load(x)")
    again = trees.tags(grammars, "shop.py", "python", edited)
    fresh = treesitter.parse(grammars, "python", edited.encode())
    assert trees.has("shop.py") and again.defs == fresh.defs and again.refs == fresh.refs
    assert "added" in {d.name for d in again.defs} and "added" not in {d.name for d in first.defs}
