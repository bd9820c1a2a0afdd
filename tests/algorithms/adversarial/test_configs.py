"""The adversarial configs follow the house convention the CLI's option generator reads: a
docstring under every field, and Literal types for the string options."""

import ast
import dataclasses
import inspect
import textwrap
import typing

import pytest

from imitlab.algorithms.adversarial import GAILConfig, OfflineGAILConfig
from imitlab.losses import REWARD_FORMS
from imitlab.rl import GENERATORS


def _field_docs(cls) -> dict[str, str]:
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    docs = {}
    for node, after in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[node.target.id] = after.value.value
    return docs


@pytest.mark.parametrize("cls", [GAILConfig, OfflineGAILConfig])
def test_every_field_has_a_docstring(cls):
    docs = _field_docs(cls)
    for f in dataclasses.fields(cls):
        assert docs.get(f.name, "").strip(), f"{cls.__name__}.{f.name} has no docstring"


@pytest.mark.parametrize("cls", [GAILConfig, OfflineGAILConfig])
def test_the_reward_form_is_a_literal_of_the_forms_losses_know(cls):
    hints = typing.get_type_hints(cls)  # every annotation resolves at run time
    assert typing.get_origin(hints["reward"]) is typing.Literal
    assert typing.get_args(hints["reward"]) == REWARD_FORMS


def test_the_generator_is_a_literal_of_the_generators():
    hint = typing.get_type_hints(GAILConfig)["generator"]
    assert typing.get_origin(hint) is typing.Literal
    assert set(typing.get_args(hint)) == set(GENERATORS)
    assert GAILConfig().generator in typing.get_args(hint)
