import pytest

from mlel.errors import UserInputError
from mlel.experiments.params import parse_params, parse_value


@pytest.mark.parametrize("text, value", [("200", 200), ("0.1", 0.1), ("1e-3", 0.001), ("100,50", (100, 50)),
                                         ("100,", (100,)), ("true", True), ("False", False), ("none", None),
                                         ("rbf", "rbf"), ("nan", "nan")])
def test_values_are_typed(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def test_params_parse_and_reject_malformed_items():
    assert parse_params(["n_estimators=200", "max_depth=none"]) == {"n_estimators": 200, "max_depth": None}
    for bad in ("n_estimators", "=3", "two words=1"):
        with pytest.raises(UserInputError, match="key=value"):
            parse_params([bad])
