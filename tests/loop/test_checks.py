"""The shared argument checks."""

import math

import numpy as np
import pytest

from collapse_utils.checks import check_choice, check_int, check_number, check_positive


def test_check_int():
    assert check_int("n", np.int64(3), 2) == 3
    for bad in (1, 2.0, True, "3", None):
        with pytest.raises(ValueError, match=r"^n must be an integer >= 2; got "):
            check_int("n", bad, 2)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 5\]; got 6"):
        check_int("k", 6, 1, 5)


def test_check_number_and_positive():
    assert check_number("x", 3) == 3.0
    assert check_number("p", 1.0, 0, 1) == 1.0
    for bad in (math.nan, math.inf, True, "1"):
        with pytest.raises(ValueError, match="x must be a finite number; got"):
            check_number("x", bad)
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\]; got 1.5"):
        check_number("p", 1.5, 0, 1)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0; got 0"):
        check_positive("lr", 0)
    with pytest.raises(ValueError, match=r"a must be a finite number >= 0; got -1"):
        check_number("a", -1, low=0)


def test_check_choice():
    assert check_choice("method", "exact", ("exact", "naive")) == "exact"
    with pytest.raises(ValueError, match="method must be one of exact, naive; got 'fast'"):
        check_choice("method", "fast", ("exact", "naive"))
