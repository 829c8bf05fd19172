"""Tests for collapse_utils.figures.tails: the scaling and forgetting charts draw the tables of
collapse_utils.tails."""

import pytest

from collapse_utils import tails
from collapse_utils.figures import tails as figures
from tests.specs import rows


@pytest.fixture(scope="module")
def scaling():
    return tails.scaling_table(tails.zipf(300, 2.0), [10, 100, 1000], [None, 30, 5], n_runs=4,
                               seed=0)


def test_scaling_chart_draws_every_curve_and_the_floors(scaling):
    spec = figures.scaling_chart(scaling).to_dict()
    data = rows(spec)
    assert len(data) == len(scaling)
    assert {r["curve"] for r in data} == {"real data (no cut)", "tail cut at k = 30",
                                          "tail cut at k = 5"}
    assert spec["description"].startswith("Log-log lines of test error")
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["line", "line", "point"]
    assert layers[0]["encoding"]["y"]["scale"]["type"] == "log"
    assert layers[1]["mark"]["strokeDash"] == [1, 3]


def test_forgetting_chart_draws_exact_diffusion_and_simulation():
    table = tails.forgetting_table([1, 2, 4], 30, n_chains=100, seed=0)
    spec = figures.forgetting_chart(table, 30).to_dict()
    curves = {r["curve"] for r in rows(spec) if "curve" in r}
    assert curves == {"exact (conditioned chain)", "diffusion: −2M q log q/(1 − q)"}
    assert "of M = 30" in spec["layer"][0]["encoding"]["x"]["title"]
    assert spec["description"].startswith("Log-log chart of the generations")


@pytest.mark.parametrize("call, match", [
    (lambda: figures.scaling_chart("table"), "^table must be the table tails.scaling_table"),
    (lambda: figures.forgetting_chart(tails.scaling_table([1.0], [1], [None], n_runs=2), 5),
     "^table must be the table tails.forgetting_table"),
    (lambda: figures.forgetting_chart(tails.forgetting_table([1], 5, n_chains=5), 1),
     "^sample_size must be an integer >= 2"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
