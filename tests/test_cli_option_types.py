"""How ``imitlab train`` turns a config field's type and registry bounds into a click type."""

import click
import pytest

from imitlab.algorithms.registry import OptionSpec
from imitlab.cli.train import _param_type


def test_an_int_fields_bounds_become_an_int_range():
    param_type = _param_type(int, OptionSpec(min=1, max=3, max_open=True))
    assert isinstance(param_type, click.IntRange)
    assert (param_type.min, param_type.max, param_type.max_open) == (1, 3, True)
    assert type(param_type.min) is int and type(param_type.max) is int
    assert param_type.convert("2", None, None) == 2
    with pytest.raises(click.BadParameter):
        param_type.convert("3", None, None)


def test_an_int_field_with_a_fractional_bound_is_a_registry_mistake():
    # IntRange(min=0.5) would accept 1 and up while --help shows 0.5: refused when the command is built
    with pytest.raises(ValueError, match="whole number, got 0.5"):
        _param_type(int, OptionSpec(min=0.5))
    with pytest.raises(ValueError, match="whole number, got 2.5"):
        _param_type(int, OptionSpec(max=2.5))


def test_a_float_field_keeps_its_float_bounds():
    param_type = _param_type(float, OptionSpec(min=0, max=0.5))
    assert isinstance(param_type, click.FloatRange) and (param_type.min, param_type.max) == (0, 0.5)
