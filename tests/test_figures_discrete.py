"""Tests for collapse_utils.figures.discrete: the chart specs (layers, sliders, legends, the data
each chart carries), built from small tables of collapse_utils.discrete."""

import numpy as np
import pandas as pd
import pytest

from collapse_utils import discrete
from collapse_utils.figures import discrete as figures
from collapse_utils.figures import style
from tests.specs import params, rows, title_text


@pytest.fixture(scope="module")
def absorption():
    return discrete.absorption_runs(10, 300, n_chains=50, seed=0)


def test_transition_chart_draws_every_cell():
    spec = figures.transition_chart(discrete.transition_matrix(4)).to_dict()
    cells = rows(spec)
    assert len(cells) == 25 and {c["from"] for c in cells} == set(range(5))
    p = discrete.transition_matrix(4)
    assert all(c["probability"] == pytest.approx(p[c["from"], c["to"]], rel=1e-3) for c in cells)
    assert spec["mark"]["type"] == "rect" and "M = 4" in title_text(spec["title"])


def test_absorption_chart_sets_the_exact_time_beside_the_band(absorption):
    spec = figures.absorption_chart(absorption).to_dict()
    band_layer, dotted = spec["layer"]
    area, lines = band_layer["layer"]
    assert area["mark"]["type"] == "area"
    assert lines["encoding"]["color"]["title"] == style.BAND_TEXT
    assert "dotted" in title_text(spec["title"]) and "50 chains" in title_text(spec["title"])
    data = [r for r in rows(spec) if "closed" in r]
    assert [r["count"] for r in data] == list(range(11))  # 1..9 simulated, 0 and M exact
    exact = discrete.expected_absorption_time(None, 10)
    np.testing.assert_allclose([r["closed"] for r in data], exact, rtol=1e-4, atol=1e-12)
    times = absorption[absorption["count"] == 4].time
    four = data[4]
    assert four["mean"] == pytest.approx(times.mean(), rel=1e-4)
    assert four["lo"] == pytest.approx(times.quantile(style.BAND[0]), rel=1e-4)
    assert four["hi"] == pytest.approx(times.quantile(style.BAND[1]), rel=1e-4)


def test_loss_chart_has_sliders_and_no_error_bars():
    loss = discrete.loss_grid(0.2, [5, 10, 20], 30, 100, seed=0)
    spec = figures.loss_chart(loss, 0.2, M=10, n=5).to_dict()
    assert {"M_loss", "n_loss"} <= params(spec)
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
             for layer in spec["layer"]]
    assert marks.count("line") == 1 and marks.count("point") == 1
    assert "standard error" not in str(spec["title"]) and "2 SE" not in str(spec)
    assert len([r for r in rows(spec) if "lost_mc" in r]) == len(loss)
    with pytest.raises(ValueError, match="^M must be an integer in 5..20"):
        figures.loss_chart(loss, 0.2, M=40, n=5)


def test_survival_chart_draws_lines_and_sparse_points():
    table = discrete.survival_table([6, 3, 1], 50, 20, seed=0)
    spec = figures.survival_chart(table, every=10).to_dict()
    lines, points = spec["layer"]
    assert lines["encoding"]["detail"]["field"] == "category"
    assert points["transform"][0]["filter"] == "datum.n % 10 == 0"
    assert len(rows(spec)) == len(table)


@pytest.mark.parametrize("call, message", [
    (lambda: figures.transition_chart(np.ones((2, 3))), "^matrix must be a square"),
    (lambda: figures.transition_chart(np.eye(3) * 2), "^matrix must be a square row-stochastic"),
    (lambda: figures.absorption_chart(pd.DataFrame()), "^runs must be the DataFrame"),
    (lambda: figures.loss_chart("loss", 0.2, 5, 5), "^data must be the DataFrame"),
    (lambda: figures.survival_chart(pd.DataFrame({"n": [0]})), "^table must be the DataFrame"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
