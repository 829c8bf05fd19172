"""Linear regression refitted to its own predictions (chapter 8) against its exact expectations.

Monte Carlo means are compared with the exact expectations within 4 standard errors (seeds are
fixed, so the runs are deterministic); identities that hold exactly are checked exactly.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import breeds, regression
from collapse_utils.chains import Chains

CHAINS = 4000


def _close(samples, exact):
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(samples.mean() - exact) <= 4 * se + 1e-12, (samples.mean(), exact, se)


@pytest.mark.parametrize("workflow", ["replace", "accumulate"])
@pytest.mark.parametrize("dim, samples, noise", [(3, 8, 1.0), (10, 40, 0.5)])
def test_expected_test_error_matches_simulation(workflow, dim, samples, noise):
    n = 12
    runs = regression.simulate(workflow, n, dim, samples, noise, n_chains=CHAINS, seed=dim)
    exact = regression.expected_test_error(workflow, n, dim, samples, noise)
    assert isinstance(runs, Chains) and runs.weights.shape == (n + 1, CHAINS, dim)
    for g in (1, 2, 5, n):
        _close(runs.test_error[g], exact[g])


def test_closed_forms_exactly():
    unit = 2.0**2 * 5 / (20 - 5 - 1)
    replace = regression.expected_test_error("replace", 40, 5, 20, noise=2.0)
    np.testing.assert_allclose(replace, unit * np.arange(41))
    accumulate = regression.expected_test_error("accumulate", 40, 5, 20, noise=2.0)
    np.testing.assert_allclose(accumulate[1:], unit * np.cumsum(1 / np.arange(1, 41) ** 2))
    # Bounded by pi^2/6 times the first generation, and the bound is the limit.
    far = regression.expected_test_error("accumulate", 100_000, 5, 20, noise=2.0)
    assert far[-1] < np.pi**2 / 6 * unit and far[-1] > (np.pi**2 / 6 - 1e-4) * unit


def test_the_first_generation_is_the_same_fit_in_every_workflow():
    # Same seed: same design, same first labels, so the same first fit.
    fits = [regression.simulate(w, 3, 4, 9, n_chains=5, seed=7).weights[1]
            for w in regression.WORKFLOWS]
    np.testing.assert_allclose(fits[0], fits[1])
    np.testing.assert_allclose(fits[0], fits[2])


def test_noiseless_labels_reproduce_the_truth():
    runs = regression.simulate("accumulate_subsample", 4, 3, 7, noise=0.0, n_chains=3, seed=0)
    np.testing.assert_allclose(runs.test_error, 0.0, atol=1e-20)


def test_subsample_lies_between_accumulate_and_replace():
    kwargs = dict(n_generations=15, dim=5, samples=12, n_chains=3000)
    last = {w: regression.simulate(w, seed=i, **kwargs).test_error[-1]
            for i, w in enumerate(regression.WORKFLOWS)}
    se = {w: v.std(ddof=1) / np.sqrt(v.size) for w, v in last.items()}
    sub = last["accumulate_subsample"].mean()
    assert last["accumulate"].mean() + 4 * (se["accumulate"] + se["accumulate_subsample"]) < sub
    assert sub + 4 * (se["replace"] + se["accumulate_subsample"]) < last["replace"].mean()


def test_categorical_accumulate_drift_matches_simulation():
    from collapse_utils import remedies

    p0 = breeds.breed_distribution(8)
    n, m = 10, 15
    exact = regression.categorical_accumulate_drift(p0, n, m)
    runs = remedies.categorical_regime(p0, "accumulate", n, m, n_chains=20_000, seed=3)
    drift = ((runs.probs - p0) ** 2).sum(axis=-1)
    assert exact[0] == 0
    for g in (1, 2, 5, n):
        _close(drift[g], exact[g])


def test_accumulate_ratios_stay_below_pi2_over_6():
    runs = regression.simulate("accumulate", 20, 4, 10, n_chains=500, seed=0)
    table = regression.accumulate_ratios(runs, breeds.breed_distribution(), 20, n_chains=500,
                                         seed=1)
    assert list(table.columns) == ["model", "closed_form", "simulation", "simulation_se"]
    assert len(table) == 3
    partial = np.sum(1 / np.arange(1, 21) ** 2)
    assert np.isclose(table.closed_form[0], partial)
    assert ((table.closed_form > 1) & (table.closed_form <= partial + 1e-12)).all()
    assert (np.abs(table.simulation - table.closed_form) < 4 * table.simulation_se).all()


def test_findings_report_every_workflow():
    runs = {w: regression.simulate(w, 5, 3, 8, n_chains=200, seed=i)
            for i, w in enumerate(regression.WORKFLOWS)}
    found = regression.findings(runs)
    assert found["n"] == 5 and np.isclose(found["unit"], 3 / 4)
    assert np.isclose(found["partial_sum"], np.sum(1 / np.arange(1, 6) ** 2))
    for w in regression.WORKFLOWS:
        assert found[f"{w}_ratio"] == found[f"{w}_last"] / found[f"{w}_first"]
    with pytest.raises(ValueError, match="^runs must map each of"):
        regression.findings({"replace": runs["replace"]})


@settings(max_examples=20, deadline=None)
@given(workflow=st.sampled_from(regression.WORKFLOWS), dim=st.integers(1, 5),
       extra=st.integers(2, 10), seed=st.integers(0, 1000))
def test_shapes_and_generation_zero(workflow, dim, extra, seed):
    runs = regression.simulate(workflow, 3, dim, dim + extra, n_chains=4, seed=seed)
    assert runs.test_error.shape == (4, 4)
    np.testing.assert_allclose(runs.weights[0], 1 / np.sqrt(dim))
    assert (runs.test_error[0] == 0).all() and (runs.test_error[1:] >= 0).all()
    assert runs.info["workflow"] == workflow


@pytest.mark.parametrize("call, match", [
    (lambda: regression.simulate("recycle", 3, 2, 6), "^workflow must be one of"),
    (lambda: regression.simulate("replace", 0, 2, 6), "^n_generations must be an integer >= 1"),
    (lambda: regression.simulate("replace", 3, 5, 6), r"^samples must be >= dim \+ 2 = 7"),
    (lambda: regression.simulate("replace", 3, 2, 6, noise=-1), "^noise must be a finite"),
    (lambda: regression.simulate("replace", 3, 2, 6, n_chains=0), "^n_chains must be"),
    (lambda: regression.expected_test_error("accumulate_subsample", 3, 2, 6),
     "^workflow must be one of 'replace', 'accumulate'"),
    (lambda: regression.categorical_accumulate_drift([0.5, 0.6], 3, 4), "^probs must sum"),
    (lambda: regression.accumulate_ratios(regression.simulate("replace", 2, 1, 3), [1.0]),
     "^regression_runs must be Chains from regression.simulate with workflow 'accumulate'"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
