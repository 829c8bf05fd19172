"""Tests for collapse_utils.discrete: exact Wright-Fisher results and the simulation behind them.

Monte Carlo checks allow 4 standard errors (binomial SE sqrt(p(1-p)/C) for a frequency, sample
std / sqrt(C) for a mean time). With fixed seeds each check is deterministic; a correct formula
lands outside 4 SE with probability about 6e-5, while the mistakes guarded against (an exponent
off by one, q instead of 1 - q) move the estimate by many SE.
"""

from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils.chains import Chains
from collapse_utils.discrete import (
    absorption_runs,
    absorption_table,
    diffusion_absorption_time,
    expected_absorption_time,
    loss_grid,
    prob_absorbed_by,
    prob_eventually_lost,
    prob_lost_by,
    prob_lost_in_one_generation,
    resample,
    sharpen,
    survival_table,
    surviving_categories,
    transition_matrix,
)


def assert_frequency_within_se(hits, p, k=4.0):
    """Assert the frequency of True in ``hits`` is within k binomial SE of p."""
    hits = np.asarray(hits, dtype=bool)
    se = np.sqrt(p * (1 - p) / hits.size)
    assert abs(hits.mean() - p) <= k * se + 1e-12, f"frequency {hits.mean()}, expected {p}"


def absorption_generation(counts_path, m):
    """First generation at which each chain's count is 0 or M (paths of shape [gen, chain])."""
    absorbed = (counts_path == 0) | (counts_path == m)
    assert absorbed[-1].all(), "simulate more generations"
    return absorbed.argmax(axis=0)


# --------------------------------------------------------------------------- transition matrix


def test_transition_matrix_is_the_binomial_kernel():
    m = 7
    p = transition_matrix(m)
    assert p.shape == (8, 8)
    for i in range(m + 1):
        np.testing.assert_allclose(p[i], scipy.stats.binom.pmf(np.arange(m + 1), m, i / m))
    np.testing.assert_array_equal(p[0], np.eye(m + 1)[0])
    np.testing.assert_array_equal(p[m], np.eye(m + 1)[m])
    # Counts are a martingale: E[next | i] = i.
    np.testing.assert_allclose(p @ np.arange(m + 1), np.arange(m + 1), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 60))
def test_transition_matrix_is_stochastic(m):
    p = transition_matrix(m)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    assert p[0, 0] == 1.0 and p[m, m] == 1.0


# ------------------------------------------------------------------------ absorption: exact values


def test_expected_absorption_time_hand_values():
    # M = 2, count 1: absorbed each generation with probability 1/2, a geometric time of mean 2.
    assert expected_absorption_time(1, 2) == pytest.approx(2.0, rel=1e-14)
    # M = 3: by symmetry t1 = t2 and t1 = 1 + (4/9 + 2/9) t1, so t1 = 3.
    assert expected_absorption_time(2, 3) == pytest.approx(3.0, rel=1e-14)
    # M = 4: t1 = t3 = 1 + (120 t1 + 54 t2) / 256 and t2 = 1 + (8 t1 + 6 t2) / 16 give
    # t1 = 107/29, t2 = 132/29.
    times = expected_absorption_time(None, 4)
    np.testing.assert_allclose(times, [0, 107 / 29, 132 / 29, 107 / 29, 0], rtol=1e-14)


def exact_absorption_times(m):
    """Solve (I - Q) t = 1 in rational arithmetic, independently of numpy."""
    from math import comb

    n = m - 1
    rows = [
        [
            Fraction(int(i == j)) - Fraction(comb(m, j) * i**j * (m - i) ** (m - j), m**m)
            for j in range(1, m)
        ]
        + [Fraction(1)]
        for i in range(1, m)
    ]
    for c in range(n):  # Gauss-Jordan elimination; I - Q is non-singular.
        pivot = next(r for r in range(c, n) if rows[r][c] != 0)
        rows[c], rows[pivot] = rows[pivot], rows[c]
        rows[c] = [x / rows[c][c] for x in rows[c]]
        for r in range(n):
            if r != c and rows[r][c] != 0:
                rows[r] = [a - rows[r][c] * b for a, b in zip(rows[r], rows[c], strict=True)]
    return [0.0] + [float(row[-1]) for row in rows] + [0.0]


@pytest.mark.parametrize("m", [1, 2, 5, 9])
def test_expected_absorption_time_matches_rational_solution(m):
    np.testing.assert_allclose(expected_absorption_time(None, m), exact_absorption_times(m))


def test_expected_absorption_time_solves_first_step_equation():
    m = 25
    t = expected_absorption_time(None, m)
    q = transition_matrix(m)[1:m, 1:m]
    np.testing.assert_allclose(t[1:m], 1 + q @ t[1:m], rtol=1e-12)
    np.testing.assert_allclose(t, t[::-1], rtol=1e-10)  # symmetric in count <-> M - count
    assert t[0] == 0.0 and t[m] == 0.0
    np.testing.assert_array_equal(expected_absorption_time([[1, 2]], m), [t[1:3]])
    assert isinstance(expected_absorption_time(3, m), float)


def test_expected_absorption_time_diffusion_limit():
    # Kimura's diffusion approximation: t ~ -2M (q log q + (1-q) log(1-q)).
    m = 200
    counts = np.array([20, 60, 100])
    q = counts / m
    approx = -2 * m * (q * np.log(q) + (1 - q) * np.log(1 - q))
    np.testing.assert_allclose(expected_absorption_time(counts, m), approx, rtol=0.03)


def test_prob_lost_by_limits_and_first_step():
    m = 20
    counts = np.arange(m + 1)
    q = counts / m
    np.testing.assert_array_equal(prob_lost_by(counts, m, 0), (counts == 0).astype(float))
    np.testing.assert_allclose(prob_lost_by(counts, m, 1), (1 - q) ** m, atol=1e-15)
    np.testing.assert_allclose(prob_absorbed_by(counts, m, 1), (1 - q) ** m + q**m, atol=1e-15)
    np.testing.assert_allclose(prob_lost_by(counts, m, 3000), prob_eventually_lost(q), atol=1e-10)
    np.testing.assert_allclose(prob_absorbed_by(counts, m, 3000), 1.0, atol=1e-10)


def test_prob_absorbed_by_is_monotone_and_matches_matrix_powers():
    m, count = 12, 4
    gens = np.array([0, 1, 2, 3, 10, 40, 500])
    absorbed = prob_absorbed_by(count, m, gens)
    lost = prob_lost_by(count, m, gens)
    assert absorbed.shape == lost.shape == gens.shape
    assert np.all(np.diff(absorbed) >= 0) and np.all(np.diff(lost) >= 0)
    assert np.all(lost <= absorbed + 1e-15)
    p = transition_matrix(m)
    for n, a, lo in zip(gens, absorbed, lost, strict=True):
        row = np.linalg.matrix_power(p, n)[count]
        assert a == pytest.approx(row[0] + row[m], abs=1e-13)
        assert lo == pytest.approx(row[0], abs=1e-13)


def test_squaring_and_stepping_agree():
    # One large n goes through matrix squaring, consecutive n step one generation at a time.
    # Compare what is left to absorb, ~1e-10 here, so an off-by-one power would show.
    m, count, n = 5, 2, 100
    squared = 1 - prob_absorbed_by(count, m, n)
    stepped = 1 - prob_absorbed_by(count, m, np.arange(n + 1))[-1]
    assert 1e-12 < squared == pytest.approx(stepped, rel=1e-4)
    lost_squared = prob_eventually_lost(count / m) - prob_lost_by(count, m, n)
    lost_stepped = prob_eventually_lost(count / m) - prob_lost_by(count, m, np.arange(n + 1))[-1]
    assert lost_squared == pytest.approx(lost_stepped, rel=1e-4)


def test_prob_absorbed_by_broadcasts():
    out = prob_absorbed_by([[1], [2], [3]], 6, [0, 5])
    assert out.shape == (3, 2)
    assert isinstance(prob_lost_by(1, 6, 5), float)


def test_one_generation_and_eventual_loss():
    assert prob_lost_in_one_generation(0.3, 10) == pytest.approx(0.7**10)
    assert prob_lost_in_one_generation(0.0, 5) == 1.0 and prob_lost_in_one_generation(1.0, 5) == 0
    out = prob_lost_in_one_generation(np.array([0.1, 0.2]), np.array([[1], [10]]))
    np.testing.assert_allclose(out, [[0.9, 0.8], [0.9**10, 0.8**10]])
    assert prob_eventually_lost(0.25) == 0.75
    np.testing.assert_allclose(prob_eventually_lost([0.0, 0.5, 1.0]), [1.0, 0.5, 0.0])


# ---------------------------------------------------------------- simulation against exact results

C = 20_000


@pytest.fixture(scope="module")
def two_category_chains():
    # M = 10, q = 0.3: absorption takes ~12 generations on average; the slowest mode decays as
    # (1 - 1/M)^n, so after 400 generations every chain is absorbed.
    return resample([0.3, 0.7], 10, 400, n_chains=C, seed=2024).probs


def test_simulated_loss_in_one_generation(two_category_chains):
    lost = two_category_chains[1, :, 0] == 0
    assert_frequency_within_se(lost, prob_lost_in_one_generation(0.3, 10))


def test_simulated_loss_by_n(two_category_chains):
    for n in [2, 5, 20]:
        lost = two_category_chains[n, :, 0] == 0
        assert_frequency_within_se(lost, prob_lost_by(3, 10, n))
        absorbed = (two_category_chains[n, :, 0] == 0) | (two_category_chains[n, :, 0] == 1)
        assert_frequency_within_se(absorbed, prob_absorbed_by(3, 10, n))


def test_simulated_eventual_loss(two_category_chains):
    lost = two_category_chains[-1, :, 0] == 0
    assert_frequency_within_se(lost, prob_eventually_lost(0.3))


def test_simulated_absorption_time(two_category_chains):
    counts = np.rint(two_category_chains[:, :, 0] * 10)
    times = absorption_generation(counts, 10)
    expected = expected_absorption_time(3, 10)
    se = times.std(ddof=1) / np.sqrt(times.size)
    assert abs(times.mean() - expected) <= 4 * se


def test_check_has_power():
    """The binomial 4-SE check rejects an exponent off by one."""
    chains = resample([0.3, 0.7], 10, 1, n_chains=C, seed=1).probs
    with pytest.raises(AssertionError):
        assert_frequency_within_se(chains[1, :, 0] == 0, prob_lost_in_one_generation(0.3, 9))


def test_rare_category_in_many():
    probs = np.array([0.05, 0.15, 0.3, 0.5])
    chains = resample(probs, 20, 1, n_chains=C, seed=3).probs
    for k, q in enumerate(probs):
        assert_frequency_within_se(chains[1, :, k] == 0, prob_lost_in_one_generation(q, 20))


def test_surviving_categories():
    dists = np.array([[[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], [[0.2, 0.3, 0.5], [0.0, 0.0, 1.0]]])
    np.testing.assert_array_equal(surviving_categories(dists), [[2, 1], [3, 1]])
    chains = resample(np.full(20, 0.05), 20, 300, n_chains=50, seed=4)
    alive = surviving_categories(chains)
    np.testing.assert_array_equal(alive, surviving_categories(chains.probs))
    assert alive.shape == (301, 50) and alive[0].tolist() == [20] * 50
    assert np.all(np.diff(alive, axis=0) <= 0) and np.all(alive[-1] >= 1)


# -------------------------------------------------------------------------- resample: properties


@st.composite
def resample_args(draw):
    k = draw(st.integers(1, 6))
    weights = np.array(draw(st.lists(st.integers(0, 5), min_size=k, max_size=k))) + 0.0
    weights[draw(st.integers(0, k - 1))] += 1  # at least one positive weight
    n = draw(st.integers(0, 12))
    if draw(st.booleans()):
        sizes = draw(st.integers(1, 15))
    else:
        sizes = draw(st.lists(st.integers(1, 15), min_size=n, max_size=n))
    return dict(
        probs=weights / weights.sum(),
        sample_size=sizes,
        n_generations=n,
        n_chains=draw(st.integers(1, 5)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@settings(max_examples=100, deadline=None)
@given(args=resample_args())
def test_resample_properties(args):
    chains = resample(**args)
    out = chains.probs
    n, c, k = args["n_generations"], args["n_chains"], len(args["probs"])
    assert isinstance(chains, Chains) and list(chains.params) == ["probs"]
    assert out.shape == (n + 1, c, k) and chains.n_generations == n and chains.n_chains == c
    np.testing.assert_allclose(out[0], np.broadcast_to(args["probs"], (c, k)), rtol=1e-15)
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    sizes = np.broadcast_to(args["sample_size"], (n,))
    np.testing.assert_array_equal(chains.info["sample_sizes"], sizes)
    for i in range(1, n + 1):
        counts = out[i] * sizes[i - 1]
        np.testing.assert_allclose(counts, np.rint(counts), atol=1e-9)
    # A category once lost never returns.
    lost = out == 0
    assert np.all(lost[:-1] <= lost[1:])
    np.testing.assert_array_equal(out, resample(**args).probs)


def test_resample_seeds():
    a = resample([0.2, 0.8], 5, 10, n_chains=4, seed=9).probs
    b = resample([0.2, 0.8], 5, 10, n_chains=4, seed=np.random.default_rng(9)).probs
    c = resample([0.2, 0.8], 5, 10, n_chains=4, seed=10).probs
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_resample_accepts_probabilities_within_tolerance():
    out = resample([0.5, 0.5 + 5e-10], 4, 3, seed=0).probs
    assert out[0].sum() == pytest.approx(1.0, abs=1e-15)


# ------------------------------------------------------------------ temperature and top-k


def test_sharpen_hand_values():
    p = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(sharpen(p, temperature=0.5), p**2 / (p**2).sum())
    np.testing.assert_allclose(sharpen(p, temperature=2.0), np.sqrt(p) / np.sqrt(p).sum())
    np.testing.assert_array_equal(sharpen(p), p)
    np.testing.assert_array_equal(sharpen(p, temperature=0), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(sharpen([0.4, 0.4, 0.2], temperature=0), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(sharpen(p, top_k=2), [0.625, 0.375, 0.0])
    # Ties at the cut go to the lower index; a lost category stays lost.
    np.testing.assert_allclose(sharpen([0.25, 0.25, 0.5], top_k=2), [1 / 3, 0, 2 / 3])
    np.testing.assert_array_equal(sharpen([0.0, 1.0], temperature=0.3), [0.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1)), min_size=2, max_size=8)
       .filter(lambda w: sum(w) > 0.1),
       t1=st.floats(0.2, 3), t2=st.floats(0.2, 3), k=st.integers(1, 8))
def test_sharpen_invariants(weights, t1, t2, k):
    p = np.array(weights) / sum(weights)
    q = sharpen(p, temperature=t1)
    assert np.isclose(q.sum(), 1) and np.all((q == 0) == (p == 0))
    # The order of the categories is kept (up to rounding), and sharpening composes.
    assert np.all(np.diff(q[np.argsort(p, kind="stable")]) >= -1e-12)
    np.testing.assert_allclose(sharpen(q, temperature=t2), sharpen(p, temperature=t1 * t2),
                               rtol=1e-9, atol=1e-12)
    # Below 1 the commonest category gains, above 1 it loses.
    top = np.argmax(p)
    assert (q[top] >= p[top] - 1e-12) if t1 <= 1 else (q[top] <= p[top] + 1e-12)
    k = min(k, p.size)
    kept = sharpen(p, top_k=k)
    assert np.count_nonzero(kept) == min(k, np.count_nonzero(p))
    assert kept[kept > 0].min() >= 0 and np.isclose(kept.sum(), 1)
    assert p[kept > 0].min() >= np.sort(p)[::-1][k - 1]


def test_sharpen_works_row_by_row():
    rows = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(sharpen(rows, temperature=0.7, top_k=2),
                               [sharpen(r, temperature=0.7, top_k=2) for r in rows])


def test_resample_at_temperature_one_is_plain_resampling():
    plain = resample([0.5, 0.3, 0.2], 10, 20, n_chains=3, seed=4)
    same = resample([0.5, 0.3, 0.2], 10, 20, n_chains=3, seed=4, temperature=1.0, top_k=None)
    np.testing.assert_array_equal(plain.probs, same.probs)
    assert plain.info["temperature"] == 1.0 and plain.info["top_k"] is None


def test_resample_draws_from_the_sharpened_model():
    """One generation at T = 0.5: the mean refit is the sharpened model (within 4 SE)."""
    p, m, c = np.array([0.5, 0.3, 0.2]), 20, 20_000
    first = resample(p, m, 1, n_chains=c, seed=8, temperature=0.5).probs[1]
    q = sharpen(p, temperature=0.5)
    se = np.sqrt(q * (1 - q) / (m * c))
    assert np.all(np.abs(first.mean(axis=0) - q) <= 4 * se), (first.mean(axis=0), q)
    assert np.any(np.abs(first.mean(axis=0) - p) > 20 * se)  # the check has power


def test_resample_top_k_and_greedy_are_exact():
    p = np.array([0.4, 0.3, 0.2, 0.1])
    top = resample(p, 50, 10, n_chains=20, seed=1, top_k=2).probs
    assert np.all(top[1:, :, 2:] == 0)
    greedy = resample(p, 50, 3, n_chains=5, seed=1, temperature=0).probs
    np.testing.assert_array_equal(greedy[1:], np.broadcast_to([1.0, 0, 0, 0], (3, 5, 4)))


# ------------------------------------------------------------ tables set beside the exact results


@pytest.fixture(scope="module")
def absorption():
    return absorption_runs(12, 400, n_chains=4000, counts=[1, 3, 6, 11], seed=5)


def test_absorption_runs_follow_each_chain_to_its_end(absorption):
    assert list(absorption.columns) == ["M", "count", "q", "chain", "lost_first", "lost", "time"]
    assert len(absorption) == 4 * 4000 and set(absorption["count"]) == {1, 3, 6, 11}
    assert (absorption.time >= 1).all()
    # A chain lost in generation 1 is lost for good, at time 1.
    first = absorption[absorption.lost_first]
    assert first.lost.all() and (first.time == 1).all()
    again = absorption_runs(12, 400, n_chains=4000, counts=[1, 3, 6, 11], seed=5)
    assert absorption.equals(again)
    assert len(absorption_runs(5, 300, 2, seed=0)) == 4 * 2  # every count 1..M-1 by default


def test_absorption_table_matches_the_exact_results(absorption):
    table = absorption_table(absorption)
    assert table["count"].tolist() == [1, 3, 6, 11]
    q = table.q.to_numpy()
    np.testing.assert_allclose(table.one_step, prob_lost_in_one_generation(q, 12), rtol=1e-15)
    np.testing.assert_allclose(table.eventually, 1 - q, rtol=1e-15)
    np.testing.assert_allclose(table.time, expected_absorption_time([1, 3, 6, 11], 12))
    for key in ("one_step", "eventually", "time"):
        exact, mc, se = (table[f"{key}{s}"].to_numpy() for s in ("", "_mc", "_se"))
        # An exact value of 0 has a simulated mean of 0 and no standard error.
        assert np.all(np.abs(mc - exact) <= 4 * se + 1e-12), key
    # Binomial and sample-mean standard errors, from the chains themselves.
    one = absorption[absorption["count"] == 3]
    assert table.time_se[1] == pytest.approx(one.time.std(ddof=1) / np.sqrt(4000), rel=1e-12)
    p = one.lost.mean()
    assert table.eventually_se[1] == pytest.approx(np.sqrt(p * (1 - p) / 4000), rel=1e-12)


def test_absorption_runs_refuse_too_short_a_run():
    with pytest.raises(ValueError, match="^n_generations must be long enough"):
        absorption_runs(50, 3, n_chains=10, counts=[25], seed=0)


def test_diffusion_approximation_is_close_to_the_exact_time_for_large_m():
    m = 400
    counts = np.array([40, 100, 200, 300, 360])
    exact = expected_absorption_time(counts, m)
    approx = diffusion_absorption_time(counts / m, m)
    np.testing.assert_allclose(approx, exact, rtol=0.02)
    assert diffusion_absorption_time(0.5, 10) == pytest.approx(20 * np.log(2), rel=1e-15)
    assert diffusion_absorption_time([0.0, 1.0], 10).tolist() == [0.0, 0.0]


@pytest.fixture(scope="module")
def loss():
    return loss_grid(0.2, [5, 10, 20], n_generations=30, n_chains=4000, seed=0)


def test_loss_grid_holds_the_exact_curves(loss):
    assert list(loss.columns) == ["M", "n", "lost", "absorbed", "lost_mc", "absorbed_mc"]
    assert len(loss) == 3 * 31
    for m in [5, 10, 20]:
        rows = loss[loss.M == m]
        gens = rows.n.to_numpy()
        np.testing.assert_array_equal(rows.lost, prob_lost_by(m // 5, m, gens))
        np.testing.assert_array_equal(rows.absorbed, prob_absorbed_by(m // 5, m, gens))


def test_loss_grid_simulation_matches_exact(loss):
    for col in ["lost", "absorbed"]:
        p = loss[col].to_numpy()
        se = np.sqrt(p * (1 - p) / 4000)
        assert np.all(np.abs(loss[f"{col}_mc"] - p) <= 4 * se + 1e-12)
    assert (loss.absorbed_mc >= loss.lost_mc).all()
    assert (loss[loss.n == 0][["lost_mc", "absorbed_mc"]] == 0).all().all()
    assert loss_grid(0.5, [4, 6], 10, 50, seed=3).equals(loss_grid(0.5, [4, 6], 10, 50, seed=3))


def test_survival_table_matches_exact():
    counts = [10, 6, 3, 1]
    table = survival_table(counts, n_generations=40, n_chains=4000, seed=8)
    assert len(table) == 4 * 41 and table.groupby("category").q.first().tolist() == [
        0.5, 0.3, 0.15, 0.05]
    for k, rows in table.groupby("category"):
        gens = rows.n.to_numpy()
        np.testing.assert_allclose(rows.exact, 1 - prob_lost_by(counts[k], 20, gens))
        p = rows.exact.to_numpy()
        se = np.sqrt(p * (1 - p) / 4000)
        assert np.all(np.abs(rows.simulated - p) <= 4 * se + 1e-12), k
    start = table[table.n == 0]
    assert (start.exact == 1).all() and (start.simulated == 1).all()


# ------------------------------------------------------------------------------ error messages

BAD_CALLS = [
    (lambda: resample([0.5, -0.1, 0.6], 10, 5), r"^probs must be non-negative"),
    (lambda: resample([0.5, 0.4], 10, 5), r"^probs must sum to 1 within 1e-09"),
    (lambda: resample([[0.5, 0.5]], 10, 5), r"^probs must be a non-empty 1-D array"),
    (lambda: resample([], 10, 5), r"^probs must be a non-empty 1-D array"),
    (lambda: resample([0.5, 0.5], 0, 5), r"^sample_size must be an integer >= 1 \(got 0\)"),
    (lambda: resample([0.5, 0.5], 2.5, 5), r"^sample_size must be an integer >= 1 \(got 2.5\)"),
    (lambda: resample([0.5, 0.5], [3, 3], 5), r"^sample_size .*n_generations=5 \(got length 2\)"),
    (lambda: resample([0.5, 0.5], [3, 0], 2), r"^sample_size must contain integers >= 1"),
    (lambda: resample([0.5, 0.5], 10, -1), r"^n_generations must be an integer >= 0"),
    (lambda: resample([0.5, 0.5], 10, 5, n_chains=0), r"^n_chains must be an integer >= 1"),
    (lambda: resample([0.5, 0.5], 10, 5, temperature=-1),
     r"^temperature must be a finite number >= 0 \(got -1\)"),
    (lambda: resample([0.5, 0.5], 10, 5, top_k=3), r"^top_k must be an integer in 1..2"),
    (lambda: sharpen([0.5, 0.5], top_k=0), r"^top_k must be an integer in 1..2 \(got 0\)"),
    (lambda: sharpen([0.5, 0.4]), r"^probs must hold distributions over its last axis"),
    (lambda: sharpen([0.5, 0.5], temperature=float("nan")), r"^temperature must be a finite"),
    (lambda: transition_matrix(0), r"^sample_size must be an integer >= 1"),
    (lambda: transition_matrix(True), r"^sample_size must be an integer >= 1"),
    (lambda: prob_lost_in_one_generation(1.5, 10), r"^q must be a probability in \[0, 1\]"),
    (lambda: prob_lost_in_one_generation([0.5, -0.1], 10), r"^q must be a probability"),
    (lambda: prob_lost_in_one_generation(0.5, 0), r"^sample_size must contain|^sample_size must"),
    (lambda: prob_eventually_lost(-0.2), r"^q must be a probability in \[0, 1\] \(got -0.2\)"),
    (lambda: expected_absorption_time(11, 10), r"^count must be an integer in 0..10 \(got 11\)"),
    (lambda: expected_absorption_time([1, -1], 10), r"^count must contain integers in 0..10"),
    (lambda: expected_absorption_time(1, 0), r"^sample_size must be an integer >= 1"),
    (lambda: prob_absorbed_by(3, 10, -1), r"^n must be an integer >= 0"),
    (lambda: prob_lost_by(3.5, 10, 2), r"^count must be an integer in 0..10"),
    (lambda: prob_lost_by(3, 10, [1, 2.5]), r"^n must contain integers >= 0"),
    (lambda: diffusion_absorption_time(1.5, 10), r"^q must be a probability"),
    (lambda: absorption_runs(1, 10, 10), r"^sample_size must be an integer >= 2"),
    (lambda: absorption_runs(10, 0, 10), r"^n_generations must be an integer >= 1"),
    (lambda: absorption_runs(10, 10, 1), r"^n_chains must be an integer >= 2"),
    (lambda: absorption_runs(10, 10, 5, counts=[0, 5]), r"^counts must contain integers in 1..9"),
    (lambda: absorption_runs(10, 10, 5, counts=[]), r"^counts must be a non-empty 1-D"),
    (lambda: absorption_table("runs"), r"^runs must be the DataFrame absorption_runs returns"),
    (lambda: loss_grid(0.0, [5], 5, 10), r"^frequency must be in \(0, 1\)"),
    (lambda: loss_grid(0.3, [5, 10], 5, 10), r"^frequency \* M must be an integer"),
    (lambda: loss_grid(0.2, [], 5, 10), r"^sample_sizes must be a non-empty 1-D"),
    (lambda: loss_grid(0.2, 10, 5, 10), r"^sample_sizes must be a non-empty 1-D"),
    (lambda: loss_grid(0.2, [5], -1, 10), r"^n_generations must be an integer >= 0"),
    (lambda: loss_grid(0.2, [5], 5, 1), r"^n_chains must be an integer >= 2"),
    (lambda: survival_table([3, 0], 5, 10), r"^counts must contain integers >= 1"),
    (lambda: survival_table(5, 5, 10), r"^counts must be a non-empty 1-D"),
    (lambda: survival_table([3, 2], 5, 0), r"^n_chains must be an integer >= 1"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
