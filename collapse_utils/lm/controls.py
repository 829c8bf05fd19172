"""Controlled runs of chapter 6: one setting changed at a time, everything else held.

Each control reruns the miniature for one seed with one setting changed, and sets it beside the
same seed of the main run (the runs share every derived seed, so the two differ only in that
setting). :data:`CONTROLS` names them:

``repetition_penalty``
    1.0 and 2.0 against the official code's 3.0 (the paper: 2.0 doubles perplexity);
``weights``
    the weights with the best *real* validation loss against those at the end of training;
``real_mix``
    real blocks added on top of a full synthetic set, against the official mix of constant size.
"""

from __future__ import annotations

import pandas as pd

from .config import RunConfig, preset
from .runner import run, run_dir

#: setting -> (values tried besides the main run's, regimes run)
CONTROLS: dict[str, tuple[tuple, tuple[str, ...]]] = {
    "repetition_penalty": ((1.0, 2.0), ("replace",)),
    "weights": (("best_val",), ("replace", "keep_real")),
    "real_mix": (("add",), ("keep_real",)),
}

#: Percentiles of the generation-0 perplexities reported per generation (Figure 1's shape).
QUANTILES = (0.05, 0.5, 0.99)


def run_control(
    setting: str, config: RunConfig | str = "cpu-small", seed: int = 0, name: str | None = None
) -> pd.DataFrame:
    """Run control ``setting`` (a key of :data:`CONTROLS`) beside the main run; resumable.

    The main run is ``run_dir(name)`` (``name`` defaults to the preset's name, so that chapter 6's
    run is reused), each variant ``run_dir(f"{name}-{setting}-{value}")``.

    Returns one row per value × regime × generation: ``value`` (the main run's first),
    ``test_ppl``, and the ``QUANTILES`` of the perplexities, under that run's generation-0
    model, of the sequences the generation wrote (columns ``q5``, ``q50``, ``q99``).
    """
    if setting not in CONTROLS:
        raise ValueError(f"setting must be one of {', '.join(CONTROLS)} (got {setting!r})")
    if isinstance(config, str):
        name = name or config
        config = preset(config)
    elif name is None:
        raise ValueError("name must be given with a RunConfig (it names the runs' folders)")
    values, regimes = CONTROLS[setting]
    config = config.replace(seeds=(seed,), regimes=regimes)
    frames = []
    for value in (getattr(config, setting), *values):
        changed = config.replace(**{setting: value})
        folder = run_dir(name if value == getattr(config, setting) else f"{name}-{setting}-{value}")
        res = run(changed, folder)
        frames.append(_summary(res, seed, regimes).assign(value=str(value)))
    return pd.concat(frames, ignore_index=True).assign(setting=setting)


def _summary(res, seed: int, regimes) -> pd.DataFrame:
    results = res.results[(res.results.seed == seed) & res.results.regime.isin(regimes)]
    out = results[["regime", "generation", "test_ppl"]].reset_index(drop=True)
    seq = res.sequences[(res.sequences.seed == seed) & res.sequences.regime.isin(regimes)]
    q = seq.groupby(["regime", "generation"]).gen0_ppl.quantile(list(QUANTILES)).unstack()
    q.columns = [f"q{round(100 * c)}" for c in q.columns]
    return out.merge(q.reset_index(), on=["regime", "generation"])


def numbers(control: pd.DataFrame) -> dict:
    """A control's numbers by name, for the chapter's prose (myst-nb glue) and its claim tests:
    ``{setting}_{value}_{regime}_{measure}_{first|last}`` (dots in values become ``_``), for
    ``measure`` in test_ppl, q5, q50, q99, at generation 0 and at the last generation."""
    out = {}
    last = int(control.generation.max())
    for (setting, value, regime), d in control.groupby(["setting", "value", "regime"]):
        d = d.set_index("generation")
        for measure in ("test_ppl", *(f"q{round(100 * q)}" for q in QUANTILES)):
            for g, when in ((0, "first"), (last, "last")):
                key = f"{setting}_{value}_{regime}_{measure}_{when}".replace(".", "_")
                out[key] = float(d.loc[g, measure])
    return out
