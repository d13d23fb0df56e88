import json
import pickle
from pathlib import Path

import pytest
from redun import task
from redun.expression import (
    QuotedExpression,
    SimpleExpression,
    TaskExpression,
    ValueExpression,
    get_lazy_operation,
    lazy_operation,
    quote,
)

from tests.core.engine import golden_workflow as gw

GOLDEN = json.loads((Path(__file__).parent / "data" / "golden.json").read_text())

redun_namespace = "expr_test"


@task
def pair(x: int) -> tuple[int, int]:
    return x, x + 1


@task(nout=3)
def triple(x):
    return x, x, x


@task
def unknown_length(x):
    return x


def test_calling_a_task_builds_a_lazy_task_expression():
    expr = gw.add(1, b=2)
    assert isinstance(expr, TaskExpression)
    assert expr.task_name == "golden.add"
    assert expr.args == (1,) and expr.kwargs == {"b": 2}
    assert repr(expr) == "golden.add(1, b=2)"


def test_expression_hashes_match_redun():
    assert gw.main(3).get_hash() == GOLDEN["expr_hash"]
    assert gw.add(1, 2).get_hash() == GOLDEN["add_expr_hash"]
    assert gw.add.options(cache=False)(1, 2).get_hash() == GOLDEN["options_expr_hash"]
    assert (gw.add(1, 2) + 1).get_hash() == GOLDEN["simple_hash"]
    assert gw.add(1, 2)[0].get_hash() == GOLDEN["getitem_hash"]


@pytest.mark.parametrize(
    ("build", "func_name", "value"),
    [
        (lambda e: e == 3, "eq", True),
        (lambda e: e != 3, "ne", False),
        (lambda e: e < 4, "lt", True),
        (lambda e: e <= 3, "le", True),
        (lambda e: e > 3, "gt", False),
        (lambda e: e >= 3, "ge", True),
        (lambda e: e + 1, "add", 4),
        (lambda e: 1 + e, "radd", 4),
        (lambda e: e - 1, "sub", 2),
        (lambda e: 10 - e, "rsub", 7),
        (lambda e: e * 2, "mul", 6),
        (lambda e: 2 * e, "rmul", 6),
        (lambda e: e / 2, "div", 1.5),
        (lambda e: 6 / e, "rdiv", 2.0),
        (lambda e: e & 0, "and", 0),
        (lambda e: 0 & e, "rand", 0),
        (lambda e: e | 0, "or", 3),
        (lambda e: 0 | e, "ror", 3),
    ],
)
def test_operators_are_lazy_and_registered(build, func_name, value):
    expr = build(gw.add(1, 2))
    assert isinstance(expr, SimpleExpression)
    assert expr.func_name == func_name
    args = [3 if isinstance(arg, TaskExpression) else arg for arg in expr.args]
    assert get_lazy_operation(func_name)(*args) == value


def test_getattr_getitem_call_and_slices_are_lazy():
    expr = gw.add(1, 2)
    assert expr.real.func_name == "getattr"
    assert expr["key"].func_name == "getitem"
    called = expr(5, k=1)
    assert called.func_name == "call" and called.args[1:] == ((5,), {"k": 1})
    items = expr[1:4]
    assert [item.args[1] for item in items] == [1, 2, 3]
    with pytest.raises(TypeError, match="explicit stop"):
        expr[1:]


def test_expressions_cannot_be_used_as_booleans():
    with pytest.raises(TypeError, match="Expressions cannot be coerced to bool."):
        bool(gw.add(1, 2))
    with pytest.raises(TypeError):
        if gw.add(1, 2) == 3:
            pass


def test_iteration_needs_a_known_length():
    a, b = pair(1)
    assert (a.args[1], b.args[1]) == (0, 1)
    assert len(list(triple(1))) == 3
    with pytest.raises(TypeError, match="unknown length"):
        list(unknown_length(1))


def test_quote_protects_an_expression():
    expr = gw.add(1, 2)
    quoted = quote(expr)
    assert isinstance(quoted, QuotedExpression)
    assert quoted.eval() is expr


def test_value_expression_rejects_expressions_and_hashes_its_value():
    assert ValueExpression(5).get_hash() == ValueExpression(5).get_hash()
    assert ValueExpression(5).get_hash() != ValueExpression(6).get_hash()
    with pytest.raises(TypeError):
        ValueExpression(gw.add(1, 2))


def test_expressions_pickle_with_their_arguments():
    expr = gw.add(gw.add(1, 2), b=3) * 2
    copy = pickle.loads(pickle.dumps(expr, protocol=3))
    assert copy.get_hash() == expr.get_hash()
    assert copy.args[0].kwargs == {"b": 3}
    assert copy.args[0].call_hash is None


def test_custom_lazy_operations():
    @lazy_operation(method="expr_test_upper", name="expr_test_upper")
    def upper(text):
        return text.upper()

    expr = gw.add(1, 2).expr_test_upper()
    assert expr.func_name == "expr_test_upper"
    assert get_lazy_operation("expr_test_upper")("ab") == "AB"
