import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import breeds, discrete
from collapse_utils.chains import Chains


@given(n=st.integers(2, len(breeds.BREEDS)), a=st.floats(0, 3))
def test_breed_distribution_is_a_decreasing_zipf_law(n, a):
    p = breeds.breed_distribution(n, a)
    assert p.shape == (n,) and np.isclose(p.sum(), 1)
    assert np.all(np.diff(p) <= 1e-15)
    # p_1 / p_k = k^a exactly.
    assert np.allclose(p[0] / p, np.arange(1, n + 1) ** a)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_breeds": 1}, "n_breeds must be an integer in 2..20"),
    ({"n_breeds": 21}, "n_breeds"),
    ({"n_breeds": 2.5}, "n_breeds"),
    ({"exponent": -1}, "exponent must be >= 0"),
])
def test_breed_distribution_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        breeds.breed_distribution(**kwargs)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 60), seed=st.integers(0, 2**16))
def test_summary_is_monotone(m, seed):
    """Breeds never come back, so breeds_left never rises; tail mass hits 0 for good."""
    runs = discrete.resample(breeds.breed_distribution(), m, 40, n_chains=3, seed=seed)
    summary = breeds.collapse_summary(runs, tail=10)
    for _, chain in summary.groupby("chain"):
        assert np.all(np.diff(chain.breeds_left.to_numpy()) <= 0)
        gone = np.flatnonzero(chain.tail_mass.to_numpy() == 0)
        if gone.size:
            assert np.all(chain.tail_mass.to_numpy()[gone[0]:] == 0)
    assert summary.top_share.between(0, 1).all()
    assert len(summary) == 41 * 3


def test_summary_starts_at_the_truth():
    p = breeds.breed_distribution()
    runs = discrete.resample(p, 50, 3, n_chains=2, seed=0)
    start = breeds.collapse_summary(runs, tail=5).query("generation == 0")
    assert (start.breeds_left == 20).all()
    assert np.allclose(start.top_share, p[0])
    assert np.allclose(start.tail_mass, np.sort(p)[:5].sum())
    with pytest.raises(ValueError, match="tail must be in 1..20"):
        breeds.collapse_summary(runs, tail=0)


def test_tidy_shares_drops_lost_breeds_and_keeps_the_rest():
    runs = discrete.resample(breeds.breed_distribution(), 20, 30, n_chains=2, seed=3)
    tidy = breeds.tidy_shares(runs, chain=1)
    assert (tidy.share > 0).all()
    for g, rows in tidy.groupby("generation"):
        assert np.isclose(rows.share.sum(), 1)
        assert len(rows) == np.count_nonzero(runs.probs[g, 1])
        assert rows["breed"].tolist() == [breeds.BREEDS[k - 1] for k in rows["rank"]]
    with pytest.raises(ValueError, match="^chain must be an integer in 0..1"):
        breeds.tidy_shares(runs, chain=2)


def test_summary_of_a_regime_chain():
    from collapse_utils import remedies

    runs = remedies.categorical_regime(breeds.breed_distribution(), "keep_real", 5, 30, seed=0)
    summary = breeds.collapse_summary(runs)
    assert len(summary) == 6 and summary.breeds_left.iloc[0] == 20


@pytest.mark.parametrize("bad", [np.full((3, 1, 20), 0.05), Chains({"means": np.zeros((2, 1))}),
                                 Chains({"probs": np.full((2, 1, 21), 1 / 21)})])
def test_summaries_take_chains_of_breed_shares(bad):
    with pytest.raises(ValueError, match="^chains must be Chains of at most 20 breeds"):
        breeds.collapse_summary(bad)
    with pytest.raises(ValueError, match="^chains must be Chains"):
        breeds.tidy_shares(bad)


def test_summary_follows_the_breed_commonest_at_the_start():
    p = breeds.breed_distribution()
    runs = discrete.resample(p, 30, 5, n_chains=3, seed=2)
    summary = breeds.collapse_summary(runs)
    np.testing.assert_array_equal(summary.first_share, runs.probs[..., 0].ravel())


@pytest.fixture(scope="module")
def samplers():
    p = breeds.breed_distribution()
    return {name: discrete.resample(p, 50, 60, n_chains=40, seed=5, **kw)
            for name, kw in {"pure": {}, "cold": {"temperature": 0.5}, "top": {"top_k": 3}}.items()}


def test_compare_samplers_reads_each_run(samplers):
    table = breeds.compare_samplers(samplers, generation=10)
    assert list(table.index) == ["pure", "cold", "top"]
    for name, chains in samplers.items():
        row, probs = table.loc[name], chains.probs
        assert row.generation == 10 and row.n_chains == 40
        assert np.isclose(row.first_share, probs[10, :, 0].mean())
        assert np.isclose(row.first_share_se, probs[10, :, 0].std(ddof=1) / np.sqrt(40))
        assert np.isclose(row.tail_mass, probs[10, :, 10:].sum(axis=-1).mean())
        assert np.isclose(row.breeds_left, (probs[10] > 0).sum(axis=-1).mean())
        assert row.first_wins == (probs[-1, :, 0] == 1).mean()
        assert row.absorbed == (probs[-1].max(axis=-1) == 1).mean()
    # Top-k keeps 3 breeds from generation 1 on: the tail is gone at once, exactly.
    assert table.loc["top", "tail_mass"] == 0 and table.loc["top", "breeds_left"] <= 3
    # At T = 0.5 the commonest breed wins every run.
    assert table.loc["cold", "first_wins"] == 1


@pytest.mark.parametrize("call, match", [
    (lambda s: breeds.compare_samplers({}, 3), "^runs must be a non-empty dict"),
    (lambda s: breeds.compare_samplers(s, 61), "^generation must be an integer in 0..60"),
    (lambda s: breeds.compare_samplers({"x": "y"}, 3), "^chains must be Chains"),
])
def test_compare_samplers_rejects_bad_arguments(samplers, call, match):
    with pytest.raises(ValueError, match=match):
        call(samplers)
