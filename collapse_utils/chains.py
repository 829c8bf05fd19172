"""The result of every refit loop in the course: fit, sample, refit, repeat.

Every chapter's chain (categorical resampling, Gaussians, mixtures, GMMs, VAEs, the remedies)
returns a :class:`Chains`: for each fitted parameter, an array indexed
``[generation, chain, ...]``. Row 0 is generation 0, the model the chains start from (the truth);
row ``n`` is the model fitted at generation ``n``. The same indexing holds in every chapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class Chains:
    """Fitted parameters per generation and chain.

    Attributes
    ----------
    params : mapping of str to ndarray
        Each array has shape ``(n_generations + 1, n_chains, ...)``; row 0 is generation 0.
        The arrays are read-only. Each is also an attribute: ``chains.means``.
    info : mapping
        The settings the chains were run with (sample sizes, estimator, ...), and anything a
        chain keeps beside its parameters (a VAE's samples, for instance).
    """

    params: Mapping[str, np.ndarray]
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not self.params:
            raise ValueError("params must hold at least one parameter array")
        arrays = {}
        for name, value in self.params.items():
            a = np.array(value, copy=True)
            if a.ndim < 2:
                raise ValueError(
                    f"params[{name!r}] must have shape (n_generations + 1, n_chains, ...) "
                    f"(got shape {a.shape})")
            a.setflags(write=False)
            arrays[name] = a
        shapes = {a.shape[:2] for a in arrays.values()}
        if len(shapes) != 1:
            raise ValueError(
                "every params array must share its first two dimensions (generation, chain); "
                f"got {sorted(shapes)}")
        object.__setattr__(self, "params", arrays)
        object.__setattr__(self, "info", dict(self.info))

    def __getattr__(self, name: str):
        params = self.__dict__.get("params", {})
        if name in params:
            return params[name]
        raise AttributeError(
            f"{type(self).__name__} has no attribute {name!r}; its parameters are "
            f"{', '.join(params)}")

    @property
    def n_generations(self) -> int:
        """Generations after generation 0."""
        return next(iter(self.params.values())).shape[0] - 1

    @property
    def n_chains(self) -> int:
        """Independent chains."""
        return next(iter(self.params.values())).shape[1]

    def generation(self, n: int) -> dict[str, np.ndarray]:
        """Every parameter at generation ``n``, shape ``(n_chains, ...)``."""
        if not -self.n_generations - 1 <= n <= self.n_generations:
            raise ValueError(f"n must be in 0..{self.n_generations} (got {n})")
        return {k: v[n] for k, v in self.params.items()}

    def frame(self, *names: str) -> pd.DataFrame:
        """The scalar parameters ``names`` (all scalar ones by default) as a long table with
        columns ``generation``, ``chain`` and one column per parameter."""
        scalar = [k for k, v in self.params.items() if v.ndim == 2]
        names = names or tuple(scalar)
        bad = [k for k in names if k not in scalar]
        if bad:
            raise ValueError(f"names must be scalar parameters ({', '.join(scalar)}); got {bad}")
        g, c = np.meshgrid(np.arange(self.n_generations + 1), np.arange(self.n_chains),
                           indexing="ij")
        data = {"generation": g.ravel(), "chain": c.ravel()}
        data.update({k: self.params[k].ravel() for k in names})
        return pd.DataFrame(data)
