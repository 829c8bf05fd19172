"""Linear regression refitted to its own predictions: replace, accumulate, accumulate-subsample.

The setting of Gerstgrasser et al. (2024), after Dohmatob, Feng and Kempe (2024): a design
matrix X of T rows and d features, each row N(0, I_d), drawn once per chain and kept for every
generation. Generation 1 fits ordinary least squares (OLS) to y = X w* + noise; generation i + 1
fits OLS to labels the previous model made, X w_i + fresh noise, each noise N(0, σ² I_T):

- ``"replace"``: generation i + 1 sees only the newest T labels;
- ``"accumulate"``: it sees every labelled copy of X so far, (i + 1) T rows;
- ``"accumulate_subsample"``: a budget of T rows from that pool, one per row of X, each with
  the label of a generation drawn at random (the fixed budget of Kazdan, Schaeffer et al. 2024).

With isotropic features the excess test error of a fit w is ‖w − w*‖². Its exact expectation
(:func:`expected_test_error`) is σ² d/(T − d − 1) × n under replace and σ² d/(T − d − 1) ×
Σ_{i≤n} 1/i² under accumulate, below π²/6 times the first generation's error for ever.
:func:`accumulate_ratios` sets that constant beside two other models of the course (Dey and
Donoho 2024). The charts are in :mod:`collapse_utils.figures.regression`.

Used in chapter 8, What came after the paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import remedies
from ._checks import (
    as_rng,
    check_choice,
    check_distribution,
    check_int,
    check_nonnegative,
    show,
)
from .chains import Chains

__all__ = ["WORKFLOWS", "accumulate_ratios", "categorical_accumulate_drift",
           "expected_test_error", "findings", "simulate"]

WORKFLOWS = ("replace", "accumulate", "accumulate_subsample")


def _check_sizes(dim, samples) -> tuple[int, int]:
    d = check_int("dim", dim, 1)
    t = check_int("samples", samples, 1)
    if t < d + 2:
        raise ValueError(f"samples must be >= dim + 2 = {d + 2}, so that the OLS error has a "
                         f"finite mean (got {samples!r})")
    return d, t


def _ols(x, y):
    """Batched OLS: x (chains, rows, d), y (chains, rows) -> (chains, d)."""
    xtx = np.einsum("crd,cre->cde", x, x)
    xty = np.einsum("crd,cr->cd", x, y)
    return np.linalg.solve(xtx, xty[..., None])[..., 0]


def simulate(workflow, n_generations, dim, samples, noise=1.0, *, n_chains=1, seed=None) -> Chains:
    """Fit OLS generation after generation to the previous fit's noisy predictions.

    Returns :class:`~collapse_utils.chains.Chains` with ``weights`` of shape
    (n_generations + 1, n_chains, dim) and ``test_error`` = ‖w_n − w*‖², the excess test error
    for features N(0, I), of shape (n_generations + 1, n_chains). Row 0 is the truth w* (all
    entries 1/√dim, error 0); row 1 is fitted to real labels. ``noise`` is the noise's standard
    deviation σ. Used in chapter 8.
    """
    workflow = check_choice("workflow", workflow, WORKFLOWS)
    n = check_int("n_generations", n_generations, 1)
    d, t = _check_sizes(dim, samples)
    sigma = check_nonnegative("noise", noise)
    chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    w_true = np.full(d, 1 / np.sqrt(d))
    x = rng.standard_normal((chains, t, d))
    weights = np.empty((n + 1, chains, d))
    weights[0] = w_true
    labels = []  # every generation's labels, for the accumulating workflows
    w = np.broadcast_to(w_true, (chains, d))
    for i in range(1, n + 1):
        y = np.einsum("crd,cd->cr", x, w) + sigma * rng.standard_normal((chains, t))
        labels.append(y)
        if workflow == "replace":
            w = _ols(x, y)
        elif workflow == "accumulate" or i == 1:
            # OLS on i stacked copies of X is OLS on X with the labels averaged over copies.
            w = _ols(x, np.mean(labels, axis=0))
        else:
            # A budget of T rows from the pool, one per design row: each row keeps the label of
            # a generation drawn at random (drawing rows blindly could repeat a design row and
            # leave X nearly singular).
            picks = rng.integers(0, i, size=(chains, t))
            w = _ols(x, np.take_along_axis(np.stack(labels, axis=-1), picks[..., None],
                                           axis=-1)[..., 0])
        weights[i] = w
    error = ((weights - w_true) ** 2).sum(axis=-1)
    info = {"workflow": workflow, "dim": d, "samples": t, "noise": sigma, "w_true": w_true}
    return Chains({"weights": weights, "test_error": error}, info)


def expected_test_error(workflow, n_generations, dim, samples, noise=1.0) -> np.ndarray:
    """Exact E‖w_n − w*‖² for generations 0..n_generations (derived in chapter 8).

    With E[(XᵀX)⁻¹] = I/(T − d − 1) for Gaussian rows, each generation's noise adds
    σ² d/(T − d − 1) to the error under ``"replace"``; under ``"accumulate"`` generation i's
    noise enters with weight 1/i, so its share is divided by i². ``"accumulate_subsample"`` has
    no closed form here. Used in chapter 8.
    """
    workflow = check_choice("workflow", workflow, WORKFLOWS[:2])
    n = check_int("n_generations", n_generations, 0)
    d, t = _check_sizes(dim, samples)
    unit = check_nonnegative("noise", noise) ** 2 * d / (t - d - 1)
    gens = np.arange(n + 1)
    if workflow == "replace":
        return unit * gens
    return unit * np.concatenate([[0.0], np.cumsum(1.0 / gens[1:] ** 2)])


def findings(runs) -> dict[str, float]:
    """The numbers chapter 8 states about its regression runs, with their standard errors.

    ``runs`` maps each workflow to :func:`simulate`'s Chains (same settings). Ratios are to the
    mean error of generation 1. Used in chapter 8 and its claims test.
    """
    if not isinstance(runs, dict) or set(runs) != set(WORKFLOWS) \
            or not all(isinstance(c, Chains) and "test_error" in c.params for c in runs.values()):
        raise ValueError(f"runs must map each of {WORKFLOWS} to Chains from regression.simulate "
                         f"(got {show(runs)})")
    info = runs["replace"].info
    n = runs["replace"].n_generations
    out = {"n": n, "dim": info["dim"], "samples": info["samples"],
           "unit": float(expected_test_error("replace", 1, info["dim"], info["samples"],
                                             info["noise"])[1]),
           "pi2_6": np.pi**2 / 6, "partial_sum": float(np.sum(1.0 / np.arange(1, n + 1) ** 2))}
    for name, chains in runs.items():
        err = chains.test_error
        first = err[1].mean()
        out[f"{name}_first"] = float(first)
        out[f"{name}_last"] = float(err[-1].mean())
        out[f"{name}_last_se"] = float(err[-1].std(ddof=1) / np.sqrt(chains.n_chains))
        out[f"{name}_ratio"] = float(err[-1].mean() / first)
        out[f"{name}_max_ratio"] = float((err[1:].mean(axis=1) / first).max())
    return out


def categorical_accumulate_drift(probs, n_generations, sample_size) -> np.ndarray:
    """Exact E‖p_n − p_0‖² for a categorical refitted under accumulate, generations 0..n.

    Generation 1 holds the frequencies of M real draws; each later generation adds M draws of
    the last fit to the pool. With g_i = E[1 − ‖p_i‖²], g_1 = (1 − ‖p_0‖²)(1 − 1/M) and
    g_{i+1} = g_i (1 − 1/(M (i+1)²)), the drift grows by g_i/(M (i+1)²). Used in chapter 8.
    """
    p0 = check_distribution("probs", probs)
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 1)
    drift = np.zeros(n + 1)
    drift[1] = (1 - p0 @ p0) / m
    g = (1 - p0 @ p0) * (1 - 1 / m)
    for i in range(1, n):
        drift[i + 1] = drift[i] + g / (m * (i + 1) ** 2)
        g *= 1 - 1 / (m * (i + 1) ** 2)
    return drift


def accumulate_ratios(regression_runs, probs, sample_size=20, *, n_chains=2000,
                      seed=None) -> pd.DataFrame:
    """E[error at generation n] / E[error at generation 1] under accumulate, in three models.

    Rows: the linear regression of ``regression_runs`` (:func:`simulate` with
    ``"accumulate"``), the Gaussian mean of chapter 7 (:func:`collapse_utils.remedies`, unbiased
    fits to ``sample_size`` points) and the categorical ``probs`` (the dog breeds, M =
    ``sample_size``), each with the exact ratio and a simulated one, at the runs' last
    generation. Columns: model, closed_form, simulation, simulation_se. Used in chapter 8.
    """
    if not isinstance(regression_runs, Chains) or regression_runs.info.get("workflow") \
            != "accumulate":
        raise ValueError(f"regression_runs must be Chains from regression.simulate with workflow "
                         f"'accumulate' (got {show(regression_runs)})")
    p0 = check_distribution("probs", probs)
    m = check_int("sample_size", sample_size, 2)
    chains = check_int("n_chains", n_chains, 2)
    rng = as_rng(seed)
    n = regression_runs.n_generations
    info = regression_runs.info

    def ratio(values):  # mean ratio and its standard error (delta method)
        a, b = values[-1], values[1]
        r = a.mean() / b.mean()
        cov = np.cov(a, b)
        var = (cov[0, 0] - 2 * r * cov[0, 1] + r**2 * cov[1, 1]) / (b.mean() ** 2 * a.size)
        return float(r), float(np.sqrt(max(var, 0.0)))

    reg_exact = expected_test_error("accumulate", n, info["dim"], info["samples"], info["noise"])
    gauss = remedies.gaussian_regime("accumulate", n, m, n_chains=chains, seed=rng)
    gauss_exact = remedies.expected_moments("accumulate", n, m)[1]
    cat = remedies.categorical_regime(p0, "accumulate", n, m, n_chains=chains, seed=rng)
    cat_exact = categorical_accumulate_drift(p0, n, m)
    rows = [("linear regression", reg_exact, regression_runs.test_error),
            ("Gaussian mean (chapter 7)", gauss_exact, gauss.means**2),
            ("dog breeds (chapters 1 and 7)", cat_exact, ((cat.probs - p0) ** 2).sum(axis=-1))]
    return pd.DataFrame([(name, float(exact[-1] / exact[1]), *ratio(sim))
                         for name, exact, sim in rows],
                        columns=["model", "closed_form", "simulation", "simulation_se"])
