import pytest

from symbiote_lite.params import check_choice, check_range


def test_check_range_accepts_and_returns():
    assert check_range("EPOCHS", 3, 1, 10, integer=True) == 3
    assert check_range("LR", 0.5, 0.0, 1.0) == 0.5


@pytest.mark.parametrize("value", [0, 11, 2.5, "3", True, None])
def test_check_range_names_bad_value_and_range(value):
    with pytest.raises(ValueError, match=r"EPOCHS=.*\[1, 10\]"):
        check_range("EPOCHS", value, 1, 10, integer=True)


def test_check_choice():
    assert check_choice("DIGIT", 3, range(10)) == 3
    with pytest.raises(ValueError, match=r"DIGIT=12 .*\[0, 1"):
        check_choice("DIGIT", 12, range(10))
