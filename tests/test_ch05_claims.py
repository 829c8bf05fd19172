"""Every qualitative claim chapter 5 makes about its runs, checked against the same runs (the
chapter's calls, the chapter's seeds): a change that breaks a sentence of the book fails here.

About a minute and a half on one CPU (the GMM chains and two VAE chains run again).
"""

import numpy as np
import pytest

from collapse_utils import gmm, precision, vae

GMM_GENERATIONS = 2000
PRECISION_GENERATIONS = 1000


@pytest.fixture(scope="module")
def gmm_found():
    chain = gmm.recursive_gmm(GMM_GENERATIONS, sample_size=1000, n_components=2, keep=(),
                              seed=0, progress=False)
    return gmm.findings(chain)


@pytest.fixture(scope="module")
def vae_found():
    images = vae.load_images("digits")
    settings = dict(latent_dim=8, epochs=20, lr=2e-3, batch_size=64, progress=False)
    chain = vae.recursive_vae(10, images, likelihood="gaussian", seed=0, **settings)
    bernoulli = vae.recursive_vae(5, images, likelihood="bernoulli", seed=0, **settings)
    return vae.findings({"gaussian": chain, "bernoulli": bernoulli})


@pytest.fixture(scope="module")
def prec_found():
    gaussian_runs = precision.gaussian_chains(PRECISION_GENERATIONS, sample_size=1000,
                                              n_chains=2000, seed=0)
    gmm_runs = {fmt: gmm.recursive_gmm(PRECISION_GENERATIONS, sample_size=1000, keep=(),
                                       precision=fmt, seed=0, progress=False)
                for fmt in precision.FORMATS}
    return precision.findings(gaussian_runs, gmm_runs), gaussian_runs


# --- the GMM chain ---------------------------------------------------------------------------


def test_components_shrink_to_a_few_hundredths_as_the_1d_chain_predicts(gmm_found):
    f = gmm_found
    assert 0.9 < f["std_first"] < 1.1  # "from 1.00"
    for key in ("shrink_small", "shrink_large"):
        assert f[key] < 0.1  # a few hundredths
        # "the same order of magnitude" as the prediction
        assert 0.1 < f[key] / f["predicted_shrink"] < 10


def test_one_blob_is_lost_for_good(gmm_found):
    f = gmm_found
    assert f["means_gap_last"] < f["means_gap_first"] / 10
    assert 0 < f["lost_at"] < GMM_GENERATIONS


# --- the VAE chains --------------------------------------------------------------------------


def test_latent_spread_starts_below_the_real_data_and_falls_every_generation(vae_found):
    assert vae_found["gaussian_below_real"] == 1
    assert vae_found["gaussian_spread_falls"] == 1
    assert vae_found["gaussian_pixel_fall"] > 3  # "falls several-fold"


def test_bernoulli_decoder_collapses_sooner(vae_found):
    bernoulli, gaussian = vae_found["bernoulli_collapse"], vae_found["gaussian_collapse"]
    assert 0 < bernoulli and 0 < gaussian  # both fall below a tenth within their chains
    assert bernoulli < gaussian


# --- finite precision ------------------------------------------------------------------------


def test_gaussian_gap_grows_like_the_square_root_on_its_closed_form(prec_found):
    found, runs = prec_found
    n = PRECISION_GENERATIONS
    for fmt in ("float32", "bfloat16", "float16"):
        last = found[f"{fmt}_gap_last"]
        # the root mean square of 2000 chains: standard error about last / sqrt(2 * 2000)
        squared = precision.log_std_gap(runs[fmt], runs["float64"])[-1] ** 2
        se = squared.std() / np.sqrt(squared.size) / (2 * last)
        assert abs(last - found[f"{fmt}_gap_closed"]) < 4 * se
        assert 0.5 * np.sqrt(n) < found[f"{fmt}_gap_growth"] < 2 * np.sqrt(n)
    # fewer bits, larger gap
    assert found["bfloat16_gap_last"] > found["float16_gap_last"] > found["float32_gap_last"]


def test_gmm_gap_grows_far_faster_than_adding_errors_would(prec_found):
    found, _ = prec_found
    for fmt in ("float32", "bfloat16", "float16"):
        assert found[f"gmm_{fmt}_growth"] > 10 * np.sqrt(PRECISION_GENERATIONS)


def test_bfloat16_chains_part_first_float32_stays_close(prec_found):
    found, _ = prec_found
    assert 0 < found["gmm_bfloat16_apart"] < found["gmm_float16_apart"]
    assert found["gmm_float32_apart"] == -1 and found["gmm_float32_last"] < 0.1
