"""Tests for collapse_utils._checks, the argument checks shared by the modules."""

import numpy as np
import pytest

from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_covariance,
    check_distribution,
    check_int,
    check_int_array,
    check_nonnegative,
    check_probability,
    check_real,
    check_sample_size,
    check_sample_sizes,
    show,
)


@pytest.mark.parametrize("value", [3, np.int64(3), 3.0, np.float32(3.0), np.array(3)])
def test_check_int_accepts_integers_written_any_way(value):
    out = check_int("x", value, 0)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [2.5, True, np.bool_(True), "3", None, np.nan, np.inf, [3]])
def test_check_int_rejects_non_integers(value):
    with pytest.raises(ValueError, match=r"^x must be an integer >= 0 \(got "):
        check_int("x", value, 0)


def test_check_int_bounds():
    assert check_int("x", 5, 0, 5) == 5
    with pytest.raises(ValueError, match=r"^x must be an integer in 0..5 \(got 6\)"):
        check_int("x", 6, 0, 5)
    with pytest.raises(ValueError, match=r"^x must be an integer <= 5"):
        check_int("x", 6, None, 5)
    with pytest.raises(ValueError, match=r"^x must be an integer \(got 'a'\)"):
        check_int("x", "a")


def test_check_int_array():
    values, scalar = check_int_array("n", [1, 2.0, np.int8(3)], 0)
    assert values.dtype == np.int64 and values.tolist() == [1, 2, 3] and not scalar
    values, scalar = check_int_array("n", 4, 0)
    assert values.shape == () and scalar
    for bad, shown in [([1, 2.5], "2.5"), ([1, -1], "-1"), ([True, False], r"\[True, False\]")]:
        with pytest.raises(ValueError, match=rf"^n must contain integers >= 0 \(got {shown}\)"):
            check_int_array("n", bad, 0)


def test_sample_sizes():
    assert check_sample_size(5, 2) == 5
    np.testing.assert_array_equal(check_sample_size((5, 6), 2), [5, 6])
    np.testing.assert_array_equal(check_sample_sizes(5, 3, 2), [5, 5, 5])
    assert check_sample_sizes(5, 0, 2).shape == (0,)
    with pytest.raises(ValueError, match=r"^sample_size must be an integer >= 2 \(got 1\)"):
        check_sample_sizes(1, 3, 2)
    with pytest.raises(ValueError, match=r"length n_generations=3 \(got length 4\)"):
        check_sample_sizes([5] * 4, 3, 2)
    with pytest.raises(ValueError, match=r"^M must be an integer or a 1-D sequence"):
        check_sample_size([[5]], 2, name="M")


def test_real_and_nonnegative():
    assert check_real("mean", -2) == -2.0
    assert check_nonnegative("std", 0) == 0.0
    assert check_real("mean", np.array(1.5)) == 1.5 and check_nonnegative("std", np.array(2)) == 2
    for bad in [np.nan, "1", [1.0], True]:
        with pytest.raises(ValueError, match=r"^mean must be a finite real number"):
            check_real("mean", bad)
    for bad in [-1e-300, np.inf, None]:
        with pytest.raises(ValueError, match=r"^std must be a finite number >= 0"):
            check_nonnegative("std", bad)


def test_probability_and_distribution():
    values, scalar = check_probability("q", 0.5)
    assert scalar and values == 0.5
    values, scalar = check_probability("q", [0, 1])
    assert not scalar and values.dtype == float
    for bad in [1.5, -0.1, np.nan, "a"]:
        with pytest.raises(ValueError, match=r"^q must be a probability in \[0, 1\]"):
            check_probability("q", bad)
    np.testing.assert_array_equal(check_distribution("p", [0.25, 0.75]), [0.25, 0.75])
    check_distribution("p", [0.5, 0.5 + 9e-10])
    with pytest.raises(ValueError, match=r"^p must sum to 1 within 1e-09"):
        check_distribution("p", [0.5, 0.5 + 2e-9])
    with pytest.raises(ValueError, match=r"^p must be non-negative .* at index 1"):
        check_distribution("p", [1.1, -0.1])


def test_check_covariance():
    cov = check_covariance("cov", [[2.0, 1.0], [1.0 + 1e-15, 0.5]])
    assert cov[0, 1] == cov[1, 0]
    check_covariance("cov", [[1.0, 1.0], [1.0, 1.0]])  # singular is allowed
    check_covariance("cov", np.zeros((3, 3)))
    assert check_covariance("cov", np.stack([np.eye(2)] * 4), batch=True).shape == (4, 2, 2)
    with pytest.raises(ValueError, match=r"^cov must be a square matrix of shape \(d, d\)"):
        check_covariance("cov", np.stack([np.eye(2)] * 4))
    with pytest.raises(ValueError, match=r"^cov must be a square matrix"):
        check_covariance("cov", np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^cov must be symmetric"):
        check_covariance("cov", [[1.0, 0.1], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"^cov must be positive semi-definite"):
        check_covariance("cov", [[1.0, 0.0], [0.0, -1e-6]])
    with pytest.raises(ValueError, match=r"^cov must be finite"):
        check_covariance("cov", [[np.nan]])


def test_check_choice_lists_the_allowed_values():
    assert check_choice("estimator", "mle", ("unbiased", "mle")) == "mle"
    with pytest.raises(ValueError, match=r"^estimator must be one of 'unbiased', 'mle' \(got 3\)"):
        check_choice("estimator", 3, ("unbiased", "mle"))


def test_show_and_rng():
    assert show(np.int64(3)) == "3"
    assert show(np.zeros(100)) == "array of shape (100,)"
    assert len(show("x" * 200)) == 60
    rng = np.random.default_rng(0)
    assert as_rng(rng) is rng
    assert as_rng(1).random() == np.random.default_rng(1).random()
