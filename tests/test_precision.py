"""Tests for collapse_utils.precision: rounding to floating-point formats and the Gaussian chain
kept in them (chapter 5).

Rounding is checked against PyTorch's and numpy's own conversions, for its ties and its bound
(hypothesis, derandomized); the chains for sharing their draws across formats and for chapter
2's closed forms; the closed form of the gap against Monte Carlo, with tolerances from the
standard error.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import gaussian, precision
from collapse_utils.precision import FORMATS, round_to, unit_roundoff

VALUES = np.random.default_rng(0).normal(size=20_000) * np.exp(
    np.random.default_rng(1).uniform(-8, 8, size=20_000))

# ------------------------------------------------------------------------------------ rounding


@pytest.mark.parametrize("fmt", ["float32", "bfloat16"])
def test_round_to_matches_torch(fmt):
    expected = torch.tensor(VALUES, dtype=torch.float64).to(getattr(torch, fmt)).double().numpy()
    np.testing.assert_array_equal(round_to(VALUES, fmt), expected)


def test_round_to_float16_matches_torch_on_float32_inputs():
    # From float32 inputs torch rounds once; from float64 it goes through float32 (two roundings)
    # and can miss the nearest float16, which numpy's direct conversion finds.
    single = VALUES.astype(np.float32).astype(np.float64)
    expected = torch.tensor(single, dtype=torch.float32).half().double().numpy()
    np.testing.assert_array_equal(round_to(single, "float16"), expected)


def test_round_to_keeps_float64_and_the_shape():
    np.testing.assert_array_equal(round_to(VALUES, "float64"), VALUES)
    assert round_to(3.3, "bfloat16").shape == ()
    assert round_to(np.ones((2, 3)), "float16").shape == (2, 3)
    assert round_to(3.3, "bfloat16") == 3.296875  # 3.3 lies between 3.296875 and 3.3125


def test_round_to_ties_go_to_even():
    # bfloat16 near 1 has spacing 2^-7: 1 + 2^-8 is a tie between 1 (even) and 1 + 2^-7.
    assert round_to(1 + 2.0**-8, "bfloat16") == 1.0
    assert round_to(1 + 3 * 2.0**-8, "bfloat16") == 1 + 2.0**-6
    assert round_to(1 + 2.0**-11, "float16") == 1.0
    assert round_to(1 + 3 * 2.0**-11, "float16") == 1 + 2.0**-9


def test_unit_roundoff_is_half_the_machine_epsilon():
    for fmt in ("float64", "float32", "float16"):
        assert unit_roundoff(fmt) == np.finfo(fmt).eps / 2
    assert unit_roundoff("bfloat16") == torch.finfo(torch.bfloat16).eps / 2
    assert precision.SIGNIFICAND_BITS["bfloat16"] == 8


@settings(max_examples=200, deadline=None, derandomize=True)
@given(x=st.floats(min_value=1e-4, max_value=6e4), fmt=st.sampled_from(FORMATS))
def test_rounding_error_is_at_most_the_unit_roundoff(x, fmt):
    assert abs(round_to(x, fmt) - x) <= unit_roundoff(fmt) * abs(x)
    assert round_to(round_to(x, fmt), fmt) == round_to(x, fmt)  # representable: kept


def test_round_to_rejects_bad_input():
    with pytest.raises(ValueError, match="fmt must be one of 'float64', 'float32', 'bfloat16'"):
        round_to(1.0, "float8")
    with pytest.raises(ValueError, match="x must be finite"):
        round_to([1.0, np.inf], "float16")
    with pytest.raises(ValueError, match="fmt must be one of"):
        unit_roundoff("half")


# ------------------------------------------------------------------------------ Gaussian chains


@pytest.fixture(scope="module")
def runs():
    return precision.gaussian_chains(200, 50, n_chains=4000, seed=0)


def test_gaussian_chains_share_their_draws(runs):
    ref = runs["float64"]
    assert list(runs) == list(FORMATS) and ref.n_generations == 200 and ref.n_chains == 4000
    for fmt, chains in runs.items():
        assert chains.info["format"] == fmt and chains.info["sample_size"] == 50
        np.testing.assert_array_equal(round_to(chains.stds, fmt), chains.stds)
        np.testing.assert_array_equal(round_to(chains.means, fmt), chains.means)
        # The same factor s each generation: the ratios agree to the two roundings.
        ratio = chains.stds[1:] / chains.stds[:-1]
        np.testing.assert_allclose(ratio, ref.stds[1:] / ref.stds[:-1],
                                   rtol=3 * unit_roundoff(fmt) + 1e-15)


def test_float64_chain_has_chapter_2s_moments(runs):
    ref = runs["float64"]
    for n in (1, 50, 200):
        var = ref.stds[n] ** 2
        assert abs(var.mean() - gaussian.expected_variance(n, 50)) < 4 * var.std() / np.sqrt(4000)
        drift = ref.means[n] ** 2
        expected = gaussian.expected_mean_squared_drift(n, 50)
        assert abs(drift.mean() - expected) < 4 * drift.std() / np.sqrt(4000)


def test_same_seed_same_chains():
    a = precision.gaussian_chains(20, 10, ["bfloat16"], n_chains=3, seed=5)["bfloat16"]
    b = precision.gaussian_chains(20, 10, ["bfloat16"], n_chains=3, seed=5)["bfloat16"]
    np.testing.assert_array_equal(a.stds, b.stds)


def test_gaussian_chains_reject_bad_arguments():
    with pytest.raises(ValueError, match="formats must be a non-empty sequence"):
        precision.gaussian_chains(5, 10, "float16")
    with pytest.raises(ValueError, match="formats must be one of"):
        precision.gaussian_chains(5, 10, ["float8"])
    with pytest.raises(ValueError, match="sample_size must be an integer >= 2"):
        precision.gaussian_chains(5, 1)
    with pytest.raises(ValueError, match="std must be > 0"):
        precision.gaussian_chains(5, 10, std=0.0)


def test_log_std_gap(runs):
    assert np.all(precision.log_std_gap(runs["float64"], runs["float64"]) == 0)
    gap = precision.log_std_gap(runs["float16"], runs["float64"])
    assert gap.shape == (201, 4000) and gap[0].max() == 0.0
    with pytest.raises(ValueError, match="reference must be one of the Chains"):
        precision.log_std_gap(runs["float16"], "float64")
    short = precision.gaussian_chains(5, 50, n_chains=2, seed=0)["float64"]
    with pytest.raises(ValueError, match="reference must have the shape"):
        precision.log_std_gap(runs["float16"], short)


# -------------------------------------------------------------------------- the closed form


@pytest.mark.parametrize("fmt", ["bfloat16", "float16"])
def test_closed_form_gap_against_monte_carlo(runs, fmt):
    squared = precision.log_std_gap(runs[fmt], runs["float64"]) ** 2
    closed = precision.expected_squared_log_gap(200, 50, fmt)
    for n in (1, 5, 50, 200):
        se = squared[n].std() / np.sqrt(squared.shape[1])
        assert abs(squared[n].mean() - closed[n]) < 4 * se, (n, squared[n].mean(), closed[n])


def test_closed_form_limits():
    # sigma spread over many binades: each generation adds 4^(1-p) / (32 log 2).
    closed = precision.expected_squared_log_gap(400, 20, "bfloat16")
    assert closed[0] == 0.0
    assert np.diff(closed)[-1] == pytest.approx(4.0**-7 / (32 * np.log(2)), rel=1e-6)
    # sigma_1 just above or below 1 with probability 1/2: relative ulps 2^-7 and 2^-8.
    one = precision.expected_squared_log_gap(1, 10**8, "float16")[1]
    assert one == pytest.approx((4.0**-10 + 4.0**-11) / 2 / 12, rel=1e-3)
    with pytest.raises(ValueError, match="fmt must be one of"):
        precision.expected_squared_log_gap(3, 10, "int8")


def test_findings_are_consistent(runs):
    from collapse_utils import gmm

    gmm_runs = {f: gmm.recursive_gmm(20, sample_size=200, keep=(), precision=f, seed=0,
                                     progress=False) for f in ("float64", "bfloat16")}
    found = precision.findings(runs, gmm_runs)
    assert found["generations"] == 200 and found["gmm_generations"] == 20
    rms = np.sqrt((precision.log_std_gap(runs["float16"], runs["float64"])[-1] ** 2).mean())
    assert found["float16_gap_last"] == pytest.approx(rms)
    assert found["float16_gap_growth"] == pytest.approx(rms / found["float16_gap_first"])
    gap = gmm.relative_l2_gap(gmm_runs["bfloat16"], gmm_runs["float64"])[:, 0]
    assert found["gmm_bfloat16_last"] == pytest.approx(gap[-1])
    assert "gmm_float16_last" not in found
    with pytest.raises(ValueError, match="gmm_runs must be a dict of runs by format"):
        precision.findings(runs, {"float64": gmm_runs["float64"]})
