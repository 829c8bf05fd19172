"""Tests for collapse_utils.vae: the model, its loss, the data, the recursive loop.

Training runs are tiny (a few hundred images, one or two epochs): these tests check shapes,
seeding, the loss's closed forms and the loop's bookkeeping, not the quality of the fit. The KL
term is checked exactly against torch.distributions.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import vae
from collapse_utils.chains import Chains


@pytest.fixture(scope="module")
def digits():
    return vae.load_images("digits", limit=300)


@pytest.fixture(scope="module")
def small_chain(digits):
    return vae.recursive_vae(2, digits, epochs=1, n_show=4, n_score=50, seed=0, progress=False)


def test_load_digits():
    images = vae.load_images("digits")
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert images.min() == 0.0 and images.max() == 1.0
    assert vae.load_images("digits", limit=10).shape == (10, 1, 8, 8)


def test_mnist_offline_fails_with_a_clear_message():
    # tests/conftest.py sets HF_HUB_OFFLINE and HF_DATASETS_OFFLINE: no network is tried.
    with pytest.raises(RuntimeError, match="load_images\\('digits'\\)"):
        vae.load_images("mnist")


@pytest.mark.parametrize("side, latent", [(8, 3), (28, 20)])
def test_vae_shapes(side, latent):
    torch.manual_seed(0)
    model = vae.VAE(side=side, latent_dim=latent)
    x = torch.rand(5, 1, side, side)
    logits, mu, logvar = model(x, generator=torch.Generator().manual_seed(1))
    assert logits.shape == x.shape and mu.shape == logvar.shape == (5, latent)
    assert model.decode(torch.zeros(2, latent)).shape == (2, 1, side, side)


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(
        6, 4, generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, prior).sum(-1)
    torch.testing.assert_close(vae.kl_to_standard_normal(mu, logvar), expected, rtol=1e-12,
                               atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(mu=st.lists(st.floats(-5, 5), min_size=1, max_size=6), shift=st.floats(-3, 3))
def test_kl_splits_into_mean_and_variance_terms(mu, shift):
    m = torch.tensor(mu, dtype=torch.float64)
    lv = torch.full_like(m, shift)
    kl = vae.kl_to_standard_normal(m, lv).item()
    # KL = |mu|^2 / 2 + (a term in the variance that is >= 0, and 0 only at variance 1).
    half_norm = 0.5 * float((m**2).sum())
    assert kl >= half_norm * (1 - 1e-12) >= 0
    zero_var = vae.kl_to_standard_normal(m, torch.zeros_like(m)).item()
    assert zero_var == pytest.approx(half_norm, rel=1e-12, abs=1e-300)
    assert vae.kl_to_standard_normal(torch.zeros_like(m), torch.zeros_like(m)).item() == 0.0


def test_elbo_loss_terms():
    x = torch.full((2, 1, 4, 4), 0.5)
    logits = torch.zeros_like(x)  # sigmoid = 0.5: perfect mean reconstruction
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    assert vae.elbo_loss(logits, x, mu, logvar, "gaussian").item() == 0.0
    bce = vae.elbo_loss(logits, x, mu, logvar, "bernoulli").item()
    assert bce == pytest.approx(16 * np.log(2), rel=1e-6)
    mu1 = torch.ones(2, 3)
    assert vae.elbo_loss(logits, x, mu1, logvar, "gaussian").item() == pytest.approx(1.5)


def test_train_vae_is_seeded_and_learns(digits):
    m1, l1 = vae.train_vae(digits, latent_dim=3, epochs=3, seed=5)
    m2, l2 = vae.train_vae(digits, latent_dim=3, epochs=3, seed=5)
    assert l1 == l2 and len(l1) == 3 and l1[-1] < l1[0]
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(a, b)
    # Training leaves torch's thread setting and global random state as they were.
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    vae.train_vae(digits, latent_dim=3, epochs=1, seed=1, num_threads=1)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)


def test_decode_and_encode(digits):
    model, _ = vae.train_vae(digits, latent_dim=3, epochs=1, seed=0)
    a = vae.decode_samples(model, 7, seed=3)
    assert a.shape == (7, 1, 8, 8) and 0 < a.min() and a.max() < 1
    assert torch.equal(a, vae.decode_samples(model, 7, seed=3))
    z = torch.zeros(2, 3)
    assert torch.equal(vae.decode_samples(model, 0, z=z)[0], vae.decode_samples(model, 0, z=z)[1])
    codes = vae.encode(model, a)
    assert codes.shape == (7, 3) and codes.dtype == np.float64


def test_recursive_vae_bookkeeping(small_chain, digits):
    c = small_chain
    assert isinstance(c, Chains) and c.n_generations == 2 and c.n_chains == 1
    assert c.grids.shape == (3, 1, 4, 8, 8) and c.info["real"].shape == (4, 8, 8)
    assert c.latents.shape == (3, 1, 50, 8) and c.info["real_latents"].shape == (50, 8)
    assert c.losses.shape == (3, 1, 1) and c.pixel_spread.shape == (3, 1)
    assert (c.pixel_spread > 0).all()
    spread = vae.spread(c)
    assert spread.shape == (3, 1) and (spread > 0).all()
    np.testing.assert_allclose(spread[:, 0], c.latents[:, 0].std(axis=1).mean(axis=-1))
    assert vae.real_spread(c) == pytest.approx(c.info["real_latents"].std(axis=0).mean())
    assert c.info["likelihood"] == "gaussian" and c.info["epochs"] == 1
    # Real images come from the data.
    flat = digits[:, 0].numpy().reshape(len(digits), -1)
    for img in c.info["real"]:
        assert (np.abs(flat - img.ravel()).sum(axis=1) == 0).any()


def test_recursive_vae_is_seeded(digits, small_chain):
    again = vae.recursive_vae(2, digits, epochs=1, n_show=4, n_score=50, seed=0,
                              progress=False)
    np.testing.assert_array_equal(again.latents, small_chain.latents)
    np.testing.assert_array_equal(again.grids, small_chain.grids)


def test_findings_on_a_hand_made_chain():
    """Codes that halve each generation fall below a tenth of generation 0's at generation 4."""
    rng = np.random.default_rng(0)
    latents = np.stack([0.5**g * rng.normal(size=(200, 3)) for g in range(6)])
    pixels = np.linspace(0.3, 0.1, 6)
    c = Chains({"latents": latents[:, None], "pixel_spread": pixels[:, None]},
               {"real_latents": rng.normal(size=(200, 3))})
    found = vae.findings({"halving": c})
    assert found["halving_collapse"] == 4 and found["halving_spread_falls"] == 1
    assert found["halving_pixel_fall"] == pytest.approx(3.0)
    assert vae.findings({"halving": c}, fraction=1e-6)["halving_collapse"] == -1
    with pytest.raises(ValueError, match="^chains must be a non-empty dict"):
        vae.findings(c)


@pytest.mark.parametrize("call, message", [
    (lambda: vae.load_images("cifar"), "^name must be one of"),
    (lambda: vae.load_images("digits", limit=0), "^limit must be an integer >= 1"),
    (lambda: vae.VAE(side=10), "^side must be a multiple of 4"),
    (lambda: vae.VAE(latent_dim=0), "^latent_dim must be an integer >= 1"),
    (lambda: vae.train_vae(torch.rand(4, 8, 8), epochs=1), r"^images must have shape"),
    (lambda: vae.train_vae(torch.full((4, 1, 8, 8), 2.0)), r"^images must hold pixel values"),
    (lambda: vae.train_vae(torch.rand(4, 1, 8, 8), epochs=0), "^epochs must be an integer >= 1"),
    (lambda: vae.train_vae(torch.rand(4, 1, 8, 8), likelihood="poisson"),
     "^likelihood must be one of"),
    (lambda: vae.train_vae(torch.rand(4, 1, 8, 8), pixel_std=0.0), "^pixel_std must be > 0"),
    (lambda: vae.train_vae(torch.rand(4, 1, 8, 8), num_threads=0),
     "^num_threads must be an integer >= 1"),
    (lambda: vae.train_vae(torch.rand(4, 1, 8, 8), device="gpu-17"), "^device must be"),
    (lambda: vae.decode_samples("model", 3), "^model must be a VAE"),
    (lambda: vae.recursive_vae(-1, torch.rand(4, 1, 8, 8)),
     "^n_generations must be an integer >= 0"),
    (lambda: vae.spread("chain"), "^chains must be the Chains that vae.recursive_vae returns"),
    (lambda: vae.real_spread(Chains({"latents": np.zeros((2, 1, 3, 2))})),
     "^chains must be the Chains that vae.recursive_vae returns"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
