"""Tests for collapse_utils.figures.regression: the workflows chart draws regression.simulate's
chains, with the closed form beside the simulation and the pi^2/6 bound."""

import numpy as np
import pytest

from collapse_utils import regression
from collapse_utils.figures import regression as figures
from collapse_utils.figures import style
from tests.specs import legends, rows


@pytest.fixture(scope="module")
def runs():
    return {w: regression.simulate(w, 6, 3, 8, n_chains=40, seed=i)
            for i, w in enumerate(regression.WORKFLOWS)}


def test_workflows_chart_has_a_band_per_workflow_and_the_bound(runs):
    spec = figures.workflows_chart(runs).to_dict()
    assert len(spec["hconcat"]) == 3
    assert legends(spec).count(style.BAND_TEXT) == 3
    assert spec["description"].startswith("Three panels of excess test error")
    data = [r for r in rows(spec) if "closed" in r]
    assert len(data) == 2 * 7  # replace and accumulate have a closed form
    np.testing.assert_allclose(sorted(r["closed"] for r in data if r["generation"] == 6),
                               sorted([regression.expected_test_error(w, 6, 3, 8)[-1]
                                       for w in ("replace", "accumulate")]), rtol=1e-4)
    bound = [r["bound"] for r in rows(spec) if "bound" in r]
    assert bound == [pytest.approx(np.pi**2 / 6 * 3 / 4, rel=1e-6)]
    means = [r["mean"] for r in rows(spec) if "closed" not in r and "mean" in r]
    np.testing.assert_allclose(means, runs["accumulate_subsample"].test_error.mean(axis=1),
                               rtol=1e-4)


def test_bad_runs_are_refused(runs):
    with pytest.raises(ValueError, match="^runs must map each of"):
        figures.workflows_chart({"replace": runs["replace"]})
    other = dict(runs, replace=regression.simulate("replace", 6, 2, 8, n_chains=5, seed=0))
    with pytest.raises(ValueError, match="^runs must share dim, samples"):
        figures.workflows_chart(other)
