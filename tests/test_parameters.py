"""Every parameter of every registered method and metric is declared, and refuses wrong types and values past
its range in one line that names the class and the parameter (a new parameter without a declaration fails)."""

import pytest

from reportgen.explainers import explainers
from reportgen.measure import metrics

from support.params import assert_declared, assert_refused, case_id, parameters_of, refusals

REGISTRIES = {"method": explainers, "metric": metrics}
DECLARED = [(kind, name, key) for kind, registry in REGISTRIES.items() for name, key in parameters_of(registry)]
REFUSED = [(kind, *case) for kind, registry in REGISTRIES.items() for case in refusals(registry)]
EVERY_CLASS = [(kind, name) for kind, registry in REGISTRIES.items() for name in registry.names()]


@pytest.mark.parametrize("kind, name, key", DECLARED)
def test_every_parameter_is_declared(kind, name, key):
    assert_declared(REGISTRIES[kind].get(name), key)


@pytest.mark.parametrize("kind, name", EVERY_CLASS)
def test_every_class_takes_its_defaults(kind, name):
    cls = REGISTRIES[kind].get(name)
    assert cls().params == cls.defaults


@pytest.mark.parametrize("kind, name, key, value", REFUSED, ids=[f"{c[0]}-{case_id(c[1:])}" for c in REFUSED])
def test_a_bad_value_is_refused_in_one_line(kind, name, key, value):
    assert_refused(REGISTRIES[kind].get(name), key, value)
