"""Validation of notebook parameters: fail at once, name the bad value and what is allowed."""

from collections.abc import Collection


def check_range(name: str, value, low, high, *, integer: bool = False):
    """Return ``value`` if ``low <= value <= high`` (and an int when ``integer``), else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"parameter {name}={value!r} must be {kind} in [{low}, {high}]")
    if not low <= value <= high:
        raise ValueError(f"parameter {name}={value!r} is out of range: allowed [{low}, {high}]")
    return value


def check_choice(name: str, value, allowed: Collection):
    """Return ``value`` if it is one of ``allowed``, else raise ValueError listing the choices."""
    if value not in allowed:
        raise ValueError(f"parameter {name}={value!r} is not allowed: choose one of {sorted(allowed)}")
    return value
