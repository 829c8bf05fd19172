"""Tests for collapse_utils.figures.vae, on hand-made chains (no training: the charts only draw)."""

import numpy as np
import pytest

from collapse_utils import vae
from collapse_utils.chains import Chains
from collapse_utils.figures import vae as figures


def fake_chain(n=3, side=8, n_show=4, n_score=30, latent_dim=3, seed=0):
    """The shape of vae.recursive_vae's result, with codes that contract each generation."""
    rng = np.random.default_rng(seed)
    real_latents = rng.normal(size=(n_score, latent_dim))
    latents = np.stack([0.5**g * rng.normal(size=(n_score, latent_dim)) for g in range(n + 1)])
    params = {"latents": latents[:, None],
              "grids": rng.random((n + 1, 1, n_show, side, side)),
              "pixel_spread": np.linspace(0.3, 0.1, n + 1)[:, None],
              "losses": np.ones((n + 1, 1, 2))}
    return Chains(params, {"real": rng.random((n_show, side, side)),
                           "real_latents": real_latents})


def test_image_grid_has_one_row_per_generation_and_real_data():
    spec = figures.image_grid_chart(fake_chain(), generations=[0, 3]).to_dict()
    assert spec["facet"]["row"]["field"] == "row"
    rows = next(iter(spec["datasets"].values()))
    assert {r["row"] for r in rows} == {"real data", "generation 0", "generation 3"}
    assert len(rows) == 3 * 4 * 8 * 8 and all(0 <= r["v"] <= 1 for r in rows)


def test_image_grid_pools_large_images():
    chart = figures.image_grid_chart(fake_chain(side=28, n_show=8))
    rows = next(iter(chart.to_dict()["datasets"].values()))
    assert len(rows) <= 5000


def test_latent_chart_draws_the_spread_and_a_slider():
    chain = fake_chain()
    spec = figures.latent_chart(chain, generation=1).to_dict()
    assert len(spec["hconcat"]) == 2
    data = [row for d in spec["datasets"].values() for row in d]
    drawn = [row["spread"] for row in data if "generation" in row and "spread" in row]
    np.testing.assert_allclose(drawn, vae.spread(chain)[:, 0], rtol=1e-3)
    params = spec["params"]
    assert params[0]["name"] == "vae_generation" and params[0]["value"] == 1


@pytest.mark.parametrize("call, message", [
    (lambda: figures.image_grid_chart("chain"),
     "^chains must be the Chains that vae.recursive_vae returns"),
    (lambda: figures.latent_chart(Chains({"means": np.zeros((2, 1))})),
     "^chains must be the Chains that vae.recursive_vae returns"),
    (lambda: figures.image_grid_chart(fake_chain(), generations=[4]),
     r"^generations must be an integer in 0\.\.3"),
    (lambda: figures.latent_chart(fake_chain(), generation=-1),
     r"^generation must be an integer in 0\.\.3"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
