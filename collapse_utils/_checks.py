"""Argument checks shared by the course modules.

Every check raises ``ValueError`` whose message starts with the argument's name and says what is
allowed, e.g. ``"sample_size must be an integer >= 2 (got 1)"``, so that a student who mistypes a
call learns what to change. Checks run before any work is done.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

#: Tolerance on ``sum(probs) == 1``: loose enough for probabilities typed by hand or computed in
#: floating point, tight enough to catch a forgotten normalisation.
PROB_SUM_TOL = 1e-9

# Relative tolerances for covariance matrices: rounding in a computed covariance leaves asymmetry
# and negative eigenvalues of order 1e-16 times its scale; anything near 1e-8 is a real error.
_SYM_RTOL = 1e-9
_PSD_RTOL = 1e-8


def show(value) -> str:
    """Short text for a bad value in an error message."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        if value.size > 6:
            return f"array of shape {value.shape}"
        value = value.tolist()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_rng(seed) -> np.random.Generator:
    """Return a numpy Generator from None, an int, a SeedSequence or a Generator (kept as is)."""
    return np.random.default_rng(seed)


def check_choice(name: str, value, allowed: Sequence[str]) -> str:
    """Check that ``value`` is one of the strings in ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {options} (got {show(value)})")
    return value


def _unwrap(value):
    # A 0-d array (e.g. from np.asarray or a reduction) stands for its scalar.
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _is_integral(value) -> bool:
    # bool is an int subclass, but True as a sample size is surely a mistake.
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (numbers.Integral, np.integer)):
        return True
    if isinstance(value, (numbers.Real, np.floating)):
        # Accept 100.0 or 1e3, which are integers written as floats.
        return bool(np.isfinite(value)) and float(value).is_integer()
    return False


def _bound_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f"in {minimum}..{maximum}"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"<= {maximum}"
    return ""


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check that ``value`` is an integer in ``[minimum, maximum]`` and return it as ``int``."""
    bounds = _bound_text(minimum, maximum)
    value = _unwrap(value)
    message = f"{name} must be an integer{' ' + bounds if bounds else ''} (got {show(value)})"
    if np.ndim(value) != 0 or not _is_integral(value):
        raise ValueError(message)
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise ValueError(message)
    return out


def check_int_array(
    name: str, value, minimum: int | None = None, maximum: int | None = None
) -> tuple[np.ndarray, bool]:
    """Check an integer or an array of integers in ``[minimum, maximum]``.

    Returns
    -------
    values : ndarray of int64
        The values (0-d for a scalar).
    scalar : bool
        True if ``value`` was a scalar, so that callers can return a float rather than an array.
    """
    bounds = _bound_text(minimum, maximum)
    if np.ndim(value) == 0:
        return np.asarray(check_int(name, value, minimum, maximum), dtype=np.int64), True
    arr = np.asarray(value)
    if arr.dtype.kind in "iu":
        ok = np.ones(arr.shape, dtype=bool)
    elif arr.dtype.kind == "f":
        ok = np.isfinite(arr) & (arr == np.floor(arr))
    else:
        raise ValueError(f"{name} must contain integers {bounds} (got {show(value)})")
    if not ok.all():
        bad = arr[~ok].flat[0]
        raise ValueError(f"{name} must contain integers {bounds} (got {show(bad)})")
    out = arr.astype(np.int64)
    low = out < minimum if minimum is not None else np.zeros(out.shape, dtype=bool)
    high = out > maximum if maximum is not None else np.zeros(out.shape, dtype=bool)
    if (low | high).any():
        bad = out[low | high].flat[0]
        raise ValueError(f"{name} must contain integers {bounds} (got {show(bad)})")
    return out, False


def check_sample_size(sample_size, minimum: int, name: str = "sample_size") -> int | np.ndarray:
    """Check one sample size (returned as int) or a 1-D sequence of them (returned as an array)."""
    if np.ndim(sample_size) == 0:
        return check_int(name, sample_size, minimum)
    if np.ndim(sample_size) != 1:
        raise ValueError(
            f"{name} must be an integer or a 1-D sequence of integers "
            f"(got shape {np.shape(sample_size)})"
        )
    values, _ = check_int_array(name, sample_size, minimum)
    return values


def check_sample_sizes(
    sample_size, n_generations: int, minimum: int, name: str = "sample_size"
) -> np.ndarray:
    """Check ``sample_size`` against ``n_generations`` and return M_1..M_n as an int64 array.

    An int is used for every generation; a sequence must have one entry per generation.
    """
    sizes = check_sample_size(sample_size, minimum, name)
    if isinstance(sizes, int):
        return np.full(n_generations, sizes, dtype=np.int64)
    if len(sizes) != n_generations:
        raise ValueError(
            f"{name} must be an integer or a sequence of length n_generations={n_generations} "
            f"(got length {len(sizes)})"
        )
    return sizes


def check_real(name: str, value) -> float:
    """Check that ``value`` is a finite real scalar and return it as ``float``."""
    value = _unwrap(value)
    if (
        np.ndim(value) != 0
        or isinstance(value, (bool, np.bool_))
        or not isinstance(value, (numbers.Real, np.number))
        or not np.isfinite(value)
    ):
        raise ValueError(f"{name} must be a finite real number (got {show(value)})")
    return float(value)


def check_nonnegative(name: str, value) -> float:
    """Check that ``value`` is a finite real scalar >= 0 and return it as ``float``."""
    try:
        number = check_real(name, value)
    except ValueError:
        number = -1.0
    if number < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (got {show(_unwrap(value))})")
    return number


def check_finite_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a float array, checking that every entry is finite."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be real numbers (got {show(value)})") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (got {show(value)})")
    return arr


def check_probability(name: str, value) -> tuple[np.ndarray, bool]:
    """Check a probability or an array of probabilities in [0, 1].

    Returns the values as a float array and whether ``value`` was a scalar.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or not (np.isfinite(arr) & (arr >= 0) & (arr <= 1)).all():
        bad = value
        if arr.dtype.kind in "iuf":
            bad = arr[~(np.isfinite(arr) & (arr >= 0) & (arr <= 1))].flat[0]
        raise ValueError(f"{name} must be a probability in [0, 1] (got {show(bad)})")
    return arr.astype(float), arr.ndim == 0


def check_distribution(name: str, probs) -> np.ndarray:
    """Check a 1-D probability vector: entries >= 0 summing to 1 within ``PROB_SUM_TOL``."""
    arr = check_finite_array(name, probs)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array of probabilities (got {show(probs)})"
        )
    if (arr < 0).any():
        raise ValueError(
            f"{name} must be non-negative probabilities (got {show(arr[arr < 0][0])} "
            f"at index {int(np.flatnonzero(arr < 0)[0])})"
        )
    total = arr.sum()
    if abs(total - 1.0) > PROB_SUM_TOL:
        raise ValueError(f"{name} must sum to 1 within {PROB_SUM_TOL:g} (got sum {show(total)})")
    return arr


def check_covariance(name: str, cov, batch: bool = False) -> np.ndarray:
    """Check a covariance matrix: square, symmetric and positive semi-definite.

    Parameters
    ----------
    name : str
        Argument name for the error message.
    cov : array_like, shape (d, d), or (..., d, d) when ``batch`` is True
        The matrix (or matrices).
    batch : bool
        Accept leading batch dimensions.

    Returns
    -------
    ndarray
        The matrix, symmetrised so that rounding-level asymmetry does not propagate.
    """
    arr = check_finite_array(name, cov)
    shape_ok = arr.ndim >= 2 if batch else arr.ndim == 2
    if not shape_ok or arr.shape[-1] != arr.shape[-2] or arr.shape[-1] == 0:
        want = "(..., d, d)" if batch else "(d, d)"
        raise ValueError(f"{name} must be a square matrix of shape {want} (got shape {arr.shape})")
    scale = np.abs(arr).max(axis=(-2, -1))
    asym = np.abs(arr - np.swapaxes(arr, -1, -2)).max(axis=(-2, -1))
    if (asym > _SYM_RTOL * scale).any():
        raise ValueError(
            f"{name} must be symmetric (largest |cov - cov.T| is {float(asym.max()):.3g})"
        )
    arr = 0.5 * (arr + np.swapaxes(arr, -1, -2))
    eig = np.linalg.eigvalsh(arr)
    lowest = eig[..., 0]
    if (lowest < -_PSD_RTOL * np.abs(eig).max(axis=-1)).any():
        raise ValueError(
            f"{name} must be positive semi-definite (smallest eigenvalue {float(lowest.min()):.3g})"
        )
    return arr
