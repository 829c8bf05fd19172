"""Gaussian mixtures in d dimensions, refitted on their own samples: the paper's GMM experiment.

Chapter 5, Collapse in models trained from scratch, refits a two-component, full-covariance
``sklearn.mixture.GaussianMixture`` on its own samples, generation after generation
(:func:`recursive_gmm`), and scores it with the closed-form L2 distance between Gaussian mixtures
(:func:`l2_distance`, :func:`l2_to_start`). The chapter shows the loop in a few lines; this module
runs the same loop fast (one BLAS thread) and keeps every fit as a
:class:`~collapse_utils.chains.Chains`; :func:`findings` gives the numbers the chapter states.
With ``precision`` the chain keeps its data in a lower floating-point format
(:mod:`collapse_utils.precision`), and :func:`relative_l2_gap` measures how far that moves it.
Its charts are in :mod:`collapse_utils.figures.gmm` and :mod:`collapse_utils.figures.precision`.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from . import gaussian
from . import precision as precision_module
from ._checks import (
    as_rng,
    check_choice,
    check_covariance,
    check_distribution,
    check_finite_array,
    check_int,
    show,
)
from ._progress import progress_bar
from .chains import Chains

__all__ = ["component_stds", "findings", "l2_distance", "l2_to_start", "recursive_gmm",
           "relative_l2_gap"]


def _check_gmm(suffix: str, weights, means, covs):
    w = check_distribution(f"weights{suffix}", weights)
    m = check_finite_array(f"means{suffix}", means)
    if m.ndim != 2 or m.shape[0] != w.size or m.shape[1] == 0:
        raise ValueError(f"means{suffix} must have shape (K, d) with K = {w.size} "
                         f"(got shape {m.shape})")
    c = check_covariance(f"covs{suffix}", covs, batch=True)
    if c.shape != m.shape + m.shape[-1:]:
        raise ValueError(f"covs{suffix} must have shape (K, d, d) = {m.shape + m.shape[-1:]} "
                         f"(got shape {c.shape})")
    return w, m, c


def _cross_term(w1, m1, c1, w2, m2, c2) -> float:
    """sum_ij a_i b_j N(m1_i; m2_j, C1_i + C2_j) = int p q."""
    d = m1.shape[1]
    s = c1[:, None] + c2[None, :]
    diff = m1[:, None] - m2[None, :]
    sign, logdet = np.linalg.slogdet(s)
    if (sign <= 0).any():
        raise ValueError("covs must make every sum C1_i + C2_j positive definite (singular pair)")
    sol = np.linalg.solve(s, diff[..., None])[..., 0]
    quad = np.einsum("ijk,ijk->ij", diff, sol)
    log_n = -0.5 * (d * np.log(2 * np.pi) + logdet + quad)
    return float(w1 @ np.exp(log_n) @ w2)


def l2_distance(weights1, means1, covs1, weights2, means2, covs2) -> float:
    """L2 distance ||p - q||_2 = sqrt(int (p - q)^2) between two Gaussian mixtures, in closed form.

    int p q = sum_ij a_i b_j N(mu_i; nu_j, Sigma_i + Lambda_j), since the product of two Gaussian
    densities integrates to a Gaussian density evaluated at the difference of the means; so
    ||p - q||^2 = int p^2 + int q^2 - 2 int p q. The paper scores its GMM chain with this distance.

    Used in chapter 5, Collapse in models trained from scratch.

    Parameters
    ----------
    weights1, weights2 : array_like, shape (K,) and (L,)
    means1, means2 : array_like, shape (K, d) and (L, d)
    covs1, covs2 : array_like, shape (K, d, d) and (L, d, d)
        Symmetric positive definite (a sum C1_i + C2_j must be invertible).
    """
    a, m1, c1 = _check_gmm("1", weights1, means1, covs1)
    b, m2, c2 = _check_gmm("2", weights2, means2, covs2)
    if m1.shape[1] != m2.shape[1]:
        raise ValueError(f"means2 must have the dimension d = {m1.shape[1]} of means1 "
                         f"(got d = {m2.shape[1]})")
    pp = _cross_term(a, m1, c1, a, m1, c1)
    qq = _cross_term(b, m2, c2, b, m2, c2)
    pq = _cross_term(a, m1, c1, b, m2, c2)
    return float(np.sqrt(max(pp + qq - 2 * pq, 0.0)))


def _check_chains(chains) -> Chains:
    if not isinstance(chains, Chains) or not {"weights", "means", "covs"} <= set(chains.params):
        raise ValueError("chains must be a Chains of Gaussian mixtures (weights, means, covs), "
                         f"as recursive_gmm returns (got {show(chains)})")
    return chains


def l2_to_start(chains: Chains) -> np.ndarray:
    """Closed-form L2 distance from each generation's mixture to generation 0's.

    Shape (n_generations + 1, n_chains); row 0 is 0. Used in chapter 5.
    """
    chains = _check_chains(chains)
    out = np.empty((chains.n_generations + 1, chains.n_chains))
    for c in range(chains.n_chains):
        w0, m0, c0 = (chains.params[k][0, c] for k in ("weights", "means", "covs"))
        pp = _cross_term(w0, m0, c0, w0, m0, c0)
        for g in range(out.shape[0]):
            w, m, s = (chains.params[k][g, c] for k in ("weights", "means", "covs"))
            out[g, c] = pp + _cross_term(w, m, s, w, m, s) - 2 * _cross_term(w0, m0, c0, w, m, s)
    out[0] = 0.0
    return np.sqrt(np.maximum(out, 0.0))


def component_stds(chains: Chains) -> np.ndarray:
    """Root-mean-square standard deviation sqrt(tr(Sigma_k) / d) of each component.

    Shape (n_generations + 1, n_chains, K). Components are in the order scikit-learn returned
    them, which may swap between generations: sort along the last axis to follow the smaller and
    the larger one. Used in chapter 5.
    """
    chains = _check_chains(chains)
    d = chains.means.shape[-1]
    return np.sqrt(np.trace(chains.covs, axis1=-2, axis2=-1) / d)


def relative_l2_gap(chains: Chains, reference: Chains) -> np.ndarray:
    """``||p_n - q_n||_2 / ||q_n||_2`` per generation and chain, shape (n + 1, n_chains): how far
    each mixture of ``chains`` is from the mixture of ``reference`` fitted at the same generation.

    Label-free (scikit-learn may order the components differently in the two chains). Chapter 5
    compares chains whose data were kept in different formats, from the same seed.
    """
    chains, reference = _check_chains(chains), _check_chains(reference)
    if chains.means.shape != reference.means.shape:
        raise ValueError(f"reference must have the shape of chains {chains.means.shape} "
                         f"(got {reference.means.shape})")
    out = np.empty((chains.n_generations + 1, chains.n_chains))
    for g in range(out.shape[0]):
        for c in range(out.shape[1]):
            p = [chains.params[k][g, c] for k in ("weights", "means", "covs")]
            q = [reference.params[k][g, c] for k in ("weights", "means", "covs")]
            qq = _cross_term(*q, *q)
            out[g, c] = np.sqrt(max(_cross_term(*p, *p) + qq - 2 * _cross_term(*p, *q), 0.0) / qq)
    return out


def findings(chains: Chains) -> dict[str, float]:
    """The numbers chapter 5 states about its GMM chain (first chain), by name (for ``glue``).

    ``std_first``: the components' mean spread at generation 0; ``std_small_last``,
    ``std_large_last``: the smaller and larger spread at the last generation, and
    ``shrink_small``, ``shrink_large`` each over ``std_first``. The prediction: a component
    refitted on ``points`` = M / K points has, along any fixed direction, the variance of the 1-D
    chain of chapter 2 with the maximum-likelihood estimator, so its spread changes on average by
    the factor ``factor_unbiased`` (:func:`collapse_utils.gaussian.expected_log_shrink`, unbiased
    estimator) times ``factor_mle`` (dividing by M instead of M - 1) per generation, and by
    ``predicted_shrink`` over the chain. ``means_gap_first`` and ``means_gap_last``: the distance
    between the two components' means (K = 2 only), and ``lost_at``, the generation from which
    it stays below a tenth of generation 0's (one blob lost for good; -1 if it is not).
    """
    chains = _check_chains(chains)
    n, k = chains.n_generations, chains.weights.shape[-1]
    spreads = np.sort(component_stds(chains)[:, 0], axis=-1)
    first = float(spreads[0].mean())
    points = chains.info.get("sample_size", 1000) // k
    log_unbiased = gaussian.expected_log_shrink(points) / 2  # per generation, on log sigma
    log_mle = np.log((points - 1) / points) / 2
    out = {"generations": n, "points": points, "std_first": first,
           "std_small_last": float(spreads[-1, 0]), "std_large_last": float(spreads[-1, -1]),
           "shrink_small": float(spreads[-1, 0] / first),
           "shrink_large": float(spreads[-1, -1] / first),
           "factor_unbiased": float(np.exp(log_unbiased)), "factor_mle": float(np.exp(log_mle)),
           "predicted_shrink": float(np.exp(n * (log_unbiased + log_mle)))}
    if k == 2:
        gap = np.linalg.norm(chains.means[:, 0, 0] - chains.means[:, 0, 1], axis=-1)
        last_apart = np.flatnonzero(gap >= gap[0] / 10)[-1]  # generation 0 is apart
        out |= {"means_gap_first": float(gap[0]), "means_gap_last": float(gap[-1]),
                "lost_at": int(last_apart + 1) if last_apart < n else -1}
    return out


def recursive_gmm(n_generations: int = 2000, sample_size: int = 1000, n_components: int = 2,
                  data=None, keep=(0, 1, 10, 100, 1000, 2000), reuse_random_state: bool = False,
                  precision: str = "float64", seed=None, progress: bool = True) -> Chains:
    """Refit ``sklearn.mixture.GaussianMixture`` on its own samples, generation after generation.

    The paper's GMM experiment, and the loop chapter 5 shows: a ``n_components``-component,
    full-covariance mixture (scikit-learn's defaults otherwise) is fitted to ``data``; each later
    generation draws ``sample_size`` points from the last mixture (``GaussianMixture.sample``) and
    fits a new mixture to them, from scratch. Every ``sample`` and ``fit`` call gets a fresh
    ``random_state`` drawn from ``seed``, so the same seed gives the same chain as that loop.

    Used in chapter 5, Collapse in models trained from scratch.

    Parameters
    ----------
    n_generations : int
        Refits after generation 0 (>= 0).
    sample_size : int
        M, the points drawn per generation (>= n_components + 1).
    n_components : int
        Components of every mixture (>= 1).
    data : array_like of shape (M0, d), optional
        The original data. Default: ``sample_size`` points of two Gaussian blobs in 2-D
        (``sklearn.datasets.make_blobs(centers=2)``, unit standard deviation).
    keep : sequence of int
        Generations whose training data go into ``info["samples"]`` (those beyond
        ``n_generations`` are ignored).
    reuse_random_state : bool
        Give every generation the same ``random_state``. A pitfall, kept to show it:
        ``GaussianMixture.sample`` draws with the estimator's ``random_state``, so a fixed integer
        makes every generation reuse the same noise, a systematic shrink or growth that is not the
        paper's random one. By default each generation gets fresh randomness from ``seed``.
    precision : {"float64", "float32", "bfloat16", "float16"}
        The format every generation's data are kept in: the original data and each
        generation's samples are rounded to it (:func:`collapse_utils.precision.round_to`)
        before the fit, which computes in float64. With the same ``seed`` every format draws the
        same noise, so chains in two formats differ only by that rounding.
    seed : None, int or numpy.random.Generator
    progress : bool
        Show a progress bar (``tqdm.auto``; silenced by ``TQDM_DISABLE=1``).

    Returns
    -------
    Chains
        One chain: ``weights`` (n + 1, 1, K), ``means`` (n + 1, 1, K, d) and ``covs``
        (n + 1, 1, K, d, d), row g the mixture fitted at generation g. ``info["samples"][g]`` is
        the (M, d) training data of a kept generation g (the original data for g = 0, samples of
        generation g - 1 after), ``info["labels"][g]`` the component each point was drawn from
        (-1 for the original data).
    """
    from sklearn.datasets import make_blobs
    from sklearn.mixture import GaussianMixture

    n = check_int("n_generations", n_generations, 0)
    k = check_int("n_components", n_components, 1)
    m = check_int("sample_size", sample_size, k + 1)
    keep = {check_int("keep", g, 0) for g in keep}
    fmt = check_choice("precision", precision, precision_module.FORMATS)
    rng = as_rng(seed)
    if data is None:
        data, _ = make_blobs(n_samples=m, centers=2, n_features=2, cluster_std=1.0,
                             random_state=int(rng.integers(2**31)))
    data = check_finite_array("data", data)
    if data.ndim != 2 or data.shape[0] < k + 1:
        raise ValueError(f"data must have shape (M0, d) with M0 >= n_components + 1 = {k + 1} "
                         f"(got shape {data.shape})")
    d = data.shape[1]
    weights = np.empty((n + 1, 1, k))
    means = np.empty((n + 1, 1, k, d))
    covs = np.empty((n + 1, 1, k, d, d))
    samples, labels = {}, {}
    gm = GaussianMixture(k, covariance_type="full", random_state=int(rng.integers(2**31)))
    x, lab = data, np.full(data.shape[0], -1)
    bar = progress_bar(total=n + 1, desc="GMM generations", enabled=progress)
    # One BLAS thread: EM on a thousand points in 2-D is mostly overhead when spread over threads.
    with threadpool_limits(1), bar:
        for g in range(n + 1):
            if g > 0:  # the last mixture's samples, with fresh noise (unless reused)
                if not reuse_random_state:
                    gm.set_params(random_state=int(rng.integers(2**31)))
                x, lab = gm.sample(m)
            x = precision_module.round_to(x, fmt)
            if g in keep:
                samples[g], labels[g] = x, lab
            if not reuse_random_state:  # a fresh start for EM: fit() starts from scratch
                gm.set_params(random_state=int(rng.integers(2**31)))
            gm.fit(x)
            weights[g, 0], means[g, 0], covs[g, 0] = gm.weights_, gm.means_, gm.covariances_
            bar.update()
    info = {"samples": samples, "labels": labels, "sample_size": m, "n_components": k,
            "reuse_random_state": bool(reuse_random_state), "precision": fmt}
    return Chains({"weights": weights, "means": means, "covs": covs}, info)
