"""Tests for collapse_utils.figures.gmm: the charts build from a chain, and only from one."""

import numpy as np
import pytest

from collapse_utils import gmm
from collapse_utils.chains import Chains
from collapse_utils.figures import gmm as figures


@pytest.fixture(scope="module")
def chain():
    return gmm.recursive_gmm(10, sample_size=100, keep=(0, 10), seed=0, progress=False)


def test_chain_chart_draws_the_distance_and_the_sorted_spreads(chain):
    spec = figures.chain_chart(chain, every=1).to_dict()
    data = list(spec["datasets"].values())
    l2 = [row for d in data for row in d if "l2" in row]
    stds = [row for d in data for row in d if "std" in row]
    # Generation 0 is left off the log scale; generations 1..10 are drawn.
    assert [row["generation"] for row in l2] == list(range(1, 11))
    expected = gmm.l2_to_start(chain)[1:, 0]
    np.testing.assert_allclose([row["l2"] for row in l2], expected, rtol=1e-4)
    smaller = [row["std"] for row in stds if row["component"] == "smaller component"]
    larger = [row["std"] for row in stds if row["component"] == "larger component"]
    assert len(smaller) == len(larger) == 11 and all(
        a <= b for a, b in zip(smaller, larger, strict=True))


def test_snapshots_chart_is_deterministic_and_proportional(chain):
    a = figures.snapshots_chart(chain, n_points=40).to_dict()
    b = figures.snapshots_chart(chain, n_points=40).to_dict()
    assert a == b
    rows = list(a["datasets"].values())[0]
    assert {r["generation"] for r in rows} == {"generation 0", "generation 10"}
    late = [r["component"] for r in rows if r["generation"] == "generation 10"]
    labels = chain.info["labels"][10]
    assert len(late) == 40
    # Evenly spaced points keep each component's share to within one point.
    assert abs(late.count("component 1") - 40 * np.mean(labels == 0)) <= 1


@pytest.mark.parametrize("call, message", [
    (lambda c: figures.chain_chart("chain"), "^chains must be the Chains that gmm.recursive_gmm"),
    (lambda c: figures.chain_chart(Chains({"means": np.zeros((2, 1))})), "^chains must be"),
    (lambda c: figures.chain_chart(c, every=0), "^every must be an integer >= 1"),
    (lambda c: figures.snapshots_chart(c, generations=[3]), "^generations must be among"),
    (lambda c: figures.snapshots_chart(c, n_points=0), "^n_points must be an integer >= 1"),
])
def test_bad_arguments_raise(chain, call, message):
    with pytest.raises(ValueError, match=message):
        call(chain)
