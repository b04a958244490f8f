"""Hyperparameters from the command line: ``--param key=value`` -> typed Python values."""

from __future__ import annotations

import math
from typing import Iterable

from mlel.errors import UserInputError


def parse_value(text: str):
    """``"200"`` -> 200, ``"0.1"`` -> 0.1, ``"100,50"`` -> (100, 50), ``"true"`` -> True,
    ``"none"`` -> None; anything else stays a string."""
    text = text.strip()
    lowered = text.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    if lowered in ("none", "null"):
        return None
    if "," in text:
        return tuple(parse_value(part) for part in text.split(",") if part.strip())
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def parse_params(items: Iterable[str]) -> dict:
    """Turn repeated ``key=value`` strings into a dict; a malformed item is a user error."""
    params: dict = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.isidentifier():
            raise UserInputError(f"--param expects key=value (e.g. --param n_estimators=200); got {item!r}")
        params[key] = parse_value(value)
    return params


def flag_or_param(flag: str, key: str, params: dict) -> None:
    """A command-line flag (``--epochs``) and ``--param`` (``max_iter``) that set the same thing: one only."""
    if key in params:
        raise UserInputError(f"{flag} and --param {key} set the same thing; give one of them")


def positive_ints(name: str, value) -> tuple[int, ...]:
    """Layer widths and the like: ``100`` or ``(100, 50)`` -> a tuple of positive integers, else a user error."""
    values = (value,) if isinstance(value, int) else tuple(value) if isinstance(value, (list, tuple)) else None
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in values):
        raise UserInputError(f"The {name!r} parameter must be positive integers like 100 or 100,50; got {value!r}")
    return values


def json_safe(value):
    """Parameters as JSON can store them: tuples -> lists, numpy scalars -> Python, objects -> repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return json_safe(item())
        except (TypeError, ValueError):
            pass
    return repr(value)
