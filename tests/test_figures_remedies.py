"""Tests for collapse_utils.figures.remedies: the regimes chart draws a regime_table."""

import pandas as pd
import pytest

from collapse_utils import remedies
from collapse_utils.figures import remedies as figures
from collapse_utils.figures import style


@pytest.fixture(scope="module")
def table():
    return remedies.regime_table(5, 10, fractions=(0.1, 0.2), n_chains=50, seed=0)


def test_regimes_chart_has_its_controls_and_the_regime_colours(table):
    spec = figures.regimes_chart(table).to_dict()
    params = {p["name"]: p for p in spec["params"]}
    assert set(params) >= {"gamma_pct", "regime_pick"}
    assert params["gamma_pct"]["value"] == 10
    assert params["gamma_pct"]["bind"]["min"] == 10 and params["gamma_pct"]["bind"]["max"] == 20
    assert params["regime_pick"]["bind"]["options"] == ["all", *remedies.REGIMES]
    text = str(spec)
    for regime in ("replace", "keep_real", "accumulate"):
        assert style.PALETTE[regime] in text
    rows = next(iter(spec["datasets"].values()))
    assert len(rows) == len(table)


@pytest.mark.parametrize("bad, message", [
    ("table", "^table must be a DataFrame from remedies.regime_table"),
    (pd.DataFrame({"regime": ["replace"]}), "^table must be a DataFrame"),
])
def test_bad_arguments_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        figures.regimes_chart(bad)


def test_a_table_without_keep_real_is_refused(table):
    with pytest.raises(ValueError, match="^table must hold at least one keep_real fraction"):
        figures.regimes_chart(table[table.gamma_pct < 0])
