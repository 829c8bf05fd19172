"""A small convolutional VAE refitted on its own samples: collapse in a model trained from scratch.

Chapter 5, Collapse in models trained from scratch. The paper trains a convolutional variational
autoencoder (VAE) on MNIST; each later generation is trained from scratch on images decoded, by the
previous generation's decoder, from latent points drawn from the prior N(0, I). The generation-0
encoder then scores every generation's samples: their latent codes lose spread.

Offline, this module uses the 8x8 handwritten digits that scikit-learn ships
(``sklearn.datasets.load_digits``, 1797 images); on Colab :func:`load_images` also loads MNIST
(28x28) with Hugging Face ``datasets``, the paper's setting. The same code handles both sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from collapse_utils import charts
from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_int,
    check_nonnegative,
)
from collapse_utils._progress import progress_bar

__all__ = [
    "DATASETS",
    "LIKELIHOODS",
    "VAE",
    "VAEChain",
    "decode_samples",
    "elbo_loss",
    "encode",
    "image_grid_chart",
    "kl_to_standard_normal",
    "latent_chart",
    "load_images",
    "recursive_vae",
    "train_vae",
]

DATASETS = ("digits", "mnist")
LIKELIHOODS = ("gaussian", "bernoulli")


def load_images(name: str = "digits", limit: int | None = None) -> torch.Tensor:
    """Training images as a float tensor of shape (N, 1, side, side), pixels in [0, 1].

    - ``"digits"``: scikit-learn's 8x8 handwritten digits (1797 images, 17 grey levels, scaled
      by 1/16); ships with scikit-learn, works offline.
    - ``"mnist"``: the 60 000 MNIST training images (28x28), through Hugging Face ``datasets``
      (``ylecun/mnist``); needs the network the first time (on Colab, say). Offline it raises a
      ``RuntimeError`` that says so.

    ``limit`` keeps the first ``limit`` images. Used in chapter 5.
    """
    name = check_choice("name", name, DATASETS)
    if limit is not None:
        limit = check_int("limit", limit, 1)
    if name == "digits":
        from sklearn.datasets import load_digits

        images = load_digits().images / 16.0
    else:
        images = _load_mnist()
    out = torch.tensor(images[:limit], dtype=torch.float32)[:, None]
    return out


def _load_mnist() -> np.ndarray:
    try:
        from datasets import load_dataset

        ds = load_dataset("ylecun/mnist", split="train")
        images = np.stack([np.asarray(im, dtype=np.float32) for im in ds["image"]]) / 255.0
    except Exception as err:  # network, hub or decoding failure: say what to do instead
        raise RuntimeError(
            "Could not load MNIST from the Hugging Face hub (ylecun/mnist): it needs the network "
            "the first time (e.g. on Colab). Offline, use load_images('digits'), the 8x8 digits "
            f"that ship with scikit-learn. The error was: {type(err).__name__}: {err}"
        ) from err
    return images


def _check_images(images) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        images = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3] \
            or images.shape[2] % 4 != 0 or images.shape[0] < 1:
        raise ValueError(f"images must have shape (N, 1, side, side) with side a multiple of 4 "
                         f"(got shape {tuple(images.shape)})")
    if not torch.isfinite(images).all() or images.min() < 0 or images.max() > 1:
        raise ValueError("images must hold pixel values in [0, 1]")
    return images.float()


class VAE(nn.Module):
    """A convolutional variational autoencoder for square greyscale images.

    Encoder: two stride-2 3x3 convolutions (``channels``) and a linear layer to the mean and log
    variance of q(z | x). Decoder: a linear layer and two stride-2 transposed convolutions back to
    ``side`` x ``side`` pixel logits (``sigmoid`` gives the pixel means). ``side`` must be a
    multiple of 4: 8 for the digits, 28 for MNIST.

    Used in chapter 5, Collapse in models trained from scratch.
    """

    def __init__(self, side: int = 8, latent_dim: int = 8, channels: tuple[int, int] = (16, 32)):
        super().__init__()
        self.side = check_int("side", side, 4)
        if self.side % 4:
            raise ValueError(f"side must be a multiple of 4 (got {side})")
        self.latent_dim = check_int("latent_dim", latent_dim, 1)
        c1, c2 = (check_int("channels", c, 1) for c in channels)
        q = self.side // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(c2 * q * q, 2 * self.latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(self.latent_dim, c2 * q * q), nn.ReLU(), nn.Unflatten(1, (c2, q, q)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log variance of q(z | x)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """Logits of the reconstruction, and the mean and log variance of q(z | x)."""
        mu, logvar = self.encode(x)
        # Noise drawn on the CPU generator, then moved: the same numbers on every device.
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per row, in closed form.

    KL = 1/2 sum_j (mu_j^2 + exp(logvar_j) - 1 - logvar_j), with exp(l) - 1 computed by
    ``expm1`` so that the sum stays >= 0 to rounding near the prior. Used in chapter 5.
    """
    return 0.5 * (mu**2 + (torch.expm1(logvar) - logvar)).sum(dim=-1)


def elbo_loss(logits, x, mu, logvar, likelihood: str = "gaussian",
              pixel_std: float = 0.1) -> torch.Tensor:
    """Negative ELBO averaged over the batch: reconstruction term plus KL to the prior.

    ``likelihood="gaussian"``: p(x | z) = N(sigmoid(logits), pixel_std^2 I), reconstruction term
    ||x - sigmoid(logits)||^2 / (2 pixel_std^2) (constants dropped). ``"bernoulli"``: the binary
    cross-entropy of the pixels, as in the classic VAE for MNIST. Used in chapter 5.
    """
    likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
    if likelihood == "bernoulli":
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        rec = (torch.sigmoid(logits) - x) ** 2 / (2 * pixel_std**2)
    rec = rec.flatten(1).sum(dim=1)
    return (rec + kl_to_standard_normal(mu, logvar)).mean()


def _torch_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**62))


def _device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be None, 'cpu', 'cuda' or a torch.device "
                         f"(got {device!r})") from None


class _threads:
    """Context: torch uses ``n`` CPU threads inside, its previous setting after (None: as is)."""

    def __init__(self, n):
        self.n = None if n is None else check_int("num_threads", n, 1)

    def __enter__(self):
        self.old = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)


def train_vae(images, latent_dim: int = 8, epochs: int = 20, batch_size: int = 64,
              lr: float = 2e-3, likelihood: str = "gaussian", pixel_std: float = 0.1,
              seed=None, device=None, num_threads: int | None = 1) -> tuple[VAE, list[float]]:
    """Train a fresh :class:`VAE` on ``images`` with Adam; return it and the loss per epoch.

    The paper trains its MNIST VAE for 30 epochs with Adam at learning rate 1e-3; the defaults
    here are smaller and faster, for the 8x8 digits on a CPU. ``seed`` (None, int or
    numpy Generator) fixes the initial weights, the batches and the noise, through a
    ``torch.Generator``. ``device``: None picks CUDA when available (on Colab with a GPU),
    else the CPU. ``num_threads``: CPU threads for torch while training (restored after); one
    suits these small networks, and on a busy machine more threads mostly wait for each other
    (None keeps torch's setting). Used in chapter 5, Collapse in models trained from scratch.
    """
    images = _check_images(images)
    latent_dim = check_int("latent_dim", latent_dim, 1)
    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    lr = check_nonnegative("lr", lr)
    likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
    pixel_std = check_nonnegative("pixel_std", pixel_std)
    if pixel_std == 0:
        raise ValueError("pixel_std must be > 0 (got 0.0)")
    device = _device(device)
    with _threads(num_threads):
        return _train(images, latent_dim, epochs, batch_size, lr, likelihood, pixel_std,
                      as_rng(seed), device)


def _train(images, latent_dim, epochs, batch_size, lr, likelihood, pixel_std, rng, device):
    gen = torch.Generator().manual_seed(_torch_seed(rng))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_torch_seed(rng))
        model = VAE(side=images.shape[-1], latent_dim=latent_dim)
    model.to(device)
    images = images.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = images.shape[0]
    losses = []
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for start in range(0, n, batch_size):
            x = images[perm[start:start + batch_size].to(device)]
            logits, mu, logvar = model(x, generator=gen)
            loss = elbo_loss(logits, x, mu, logvar, likelihood, pixel_std)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
        losses.append(total / n)
    model.eval()
    return model, losses


def decode_samples(model: VAE, n: int, seed=None, z: torch.Tensor | None = None) -> torch.Tensor:
    """Images decoded from z ~ N(0, I) (or from the given ``z``): the pixel means sigmoid(logits).

    Shape (n, 1, side, side), values in (0, 1). Used in chapter 5.
    """
    if not isinstance(model, VAE):
        raise ValueError(f"model must be a VAE (got {type(model).__name__})")
    if z is None:
        n = check_int("n", n, 1)
        gen = torch.Generator().manual_seed(_torch_seed(as_rng(seed)))
        z = torch.randn(n, model.latent_dim, generator=gen)
    device = next(model.parameters()).device
    with torch.no_grad():
        return torch.sigmoid(model.decode(z.to(device))).cpu()


def encode(model: VAE, images) -> np.ndarray:
    """The means of q(z | x) for ``images``, as a numpy array (N, latent_dim). Used in chapter 5."""
    if not isinstance(model, VAE):
        raise ValueError(f"model must be a VAE (got {type(model).__name__})")
    images = _check_images(images)
    device = next(model.parameters()).device
    with torch.no_grad():
        mu, _ = model.encode(images.to(device))
    return mu.cpu().numpy().astype(float)


@dataclass(frozen=True, eq=False)
class VAEChain:
    """What :func:`recursive_vae` keeps of each generation.

    Used in chapter 5, Collapse in models trained from scratch.

    Attributes
    ----------
    grids : ndarray, shape (n_generations + 1, n_show, side, side)
        Row n: generation n's decoder applied to the same ``n_show`` latent points.
    real : ndarray, shape (n_show, side, side)
        Real training images, for comparison.
    latents : ndarray, shape (n_generations + 1, n_score, latent_dim)
        Row n: the generation-0 encoder's means for ``n_score`` samples of generation n.
    real_latents : ndarray, shape (n_score, latent_dim)
        The generation-0 encoder's means for ``n_score`` real images.
    losses : list of list of float
        Training loss per epoch, per generation.
    pixel_std : ndarray, shape (n_generations + 1,)
        Standard deviation across samples of each pixel, averaged over pixels: how much the
        generation's samples differ from one another.
    """

    grids: np.ndarray
    real: np.ndarray
    latents: np.ndarray
    real_latents: np.ndarray
    losses: list = field(repr=False)
    pixel_std: np.ndarray = field(repr=False)

    @property
    def n_generations(self) -> int:
        """Generations after generation 0."""
        return self.latents.shape[0] - 1

    def spread(self) -> np.ndarray:
        """Latent spread per generation: the std of the generation-0 encoder's means, averaged
        over latent dimensions, shape (n_generations + 1,)."""
        return self.latents.std(axis=1).mean(axis=-1)

    def real_spread(self) -> float:
        """The same spread for real images."""
        return float(self.real_latents.std(axis=0).mean())


def recursive_vae(n_generations: int = 10, images=None, latent_dim: int = 8, epochs: int = 20,
                  batch_size: int = 64, lr: float = 2e-3, likelihood: str = "gaussian",
                  pixel_std: float = 0.1, n_samples: int | None = None, n_show: int = 8,
                  n_score: int = 500, seed=None, device=None, num_threads: int | None = 1,
                  progress: bool = True) -> VAEChain:
    """Train a VAE, then train each next generation from scratch on the last one's samples.

    Generation 0 trains on ``images`` (default: the 8x8 digits). Generation n >= 1 trains a fresh
    VAE on ``n_samples`` images (default: as many as the real data) decoded by generation
    n - 1 from z ~ N(0, I), as in the paper. The generation-0 encoder scores ``n_score`` samples
    of every generation; every generation's decoder is also applied to the same ``n_show`` latent
    points, for the image grids. Training settings (and ``device``, ``num_threads``) as in
    :func:`train_vae`; ``progress`` shows a bar over the generations (``tqdm.auto``, off when
    ``TQDM_DISABLE`` is set).

    Used in chapter 5, Collapse in models trained from scratch.
    """
    n = check_int("n_generations", n_generations, 0)
    images = load_images("digits") if images is None else _check_images(images)
    n_samples = images.shape[0] if n_samples is None else check_int("n_samples", n_samples, 1)
    n_show = check_int("n_show", n_show, 1)
    n_score = check_int("n_score", n_score, 2)
    rng = as_rng(seed)
    kw = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr,
              likelihood=likelihood, pixel_std=pixel_std, device=_device(device),
              num_threads=num_threads)
    show_z = torch.randn(n_show, check_int("latent_dim", latent_dim, 1),
                         generator=torch.Generator().manual_seed(_torch_seed(rng)))
    real_idx = np.sort(rng.choice(images.shape[0], size=min(n_score, images.shape[0]),
                                  replace=False))
    grids, latents, losses, pixel_std_gen = [], [], [], []
    data = images
    encoder0 = None
    bar = progress_bar(total=n + 1, desc="VAE generations", enabled=progress)
    # The whole loop under one thread setting: decoding with a different number of threads
    # changes the last bits of the samples, and training amplifies them.
    with bar, _threads(num_threads):
        for _g in range(n + 1):
            model, loss = train_vae(data, seed=rng, **kw)
            losses.append(loss)
            if encoder0 is None:
                encoder0 = model
            samples = decode_samples(model, max(n_samples, n_score), seed=rng)
            latents.append(encode(encoder0, samples[:n_score]))
            grids.append(decode_samples(model, 0, z=show_z)[:, 0].numpy())
            pixel_std_gen.append(float(samples[:n_samples].std(dim=0).mean()))
            data = samples[:n_samples]
            bar.update()
        real_latents = encode(encoder0, images[real_idx])
    real = images[real_idx[:n_show], 0].numpy()
    return VAEChain(np.stack(grids), real, np.stack(latents), real_latents, losses,
                    np.array(pixel_std_gen))


# ---------------------------------------------------------------------------------- charts


def image_grid_chart(chain: VAEChain, generations=None, max_rows: int = 5000) -> alt.Chart:
    """Greyscale image grid: real images on top, then each generation's decoder on the same z.

    Drawn with Altair rectangles (one per pixel); images larger than fits ``max_rows`` rows are
    shown average-pooled. Used in chapter 5, Collapse in models trained from scratch.
    """
    if not isinstance(chain, VAEChain):
        raise ValueError(f"chain must be a VAEChain (got {type(chain).__name__})")
    gens = list(range(chain.n_generations + 1)) if generations is None else [
        check_int("generations", g, 0, chain.n_generations) for g in generations]
    rows = [("real data", chain.real)] + [(f"generation {g}", chain.grids[g]) for g in gens]
    k, side = chain.real.shape[0], chain.real.shape[-1]
    pool = 1
    while len(rows) * k * (side // pool) ** 2 > max_rows and side // pool > 4:
        pool += 1
        while side % pool:
            pool += 1
    s = side // pool
    frames = []
    for r, (label, imgs) in enumerate(rows):
        pooled = imgs[:, : s * pool, : s * pool].reshape(k, s, pool, s, pool).mean(axis=(2, 4))
        idx, yy, xx = np.meshgrid(np.arange(k), np.arange(s), np.arange(s), indexing="ij")
        frames.append(pd.DataFrame({
            "row": label, "order": r, "x": (idx * (s + 1) + xx).ravel(), "y": yy.ravel(),
            "v": np.round(pooled[idx, yy, xx].ravel(), 3)}))
    data = pd.concat(frames, ignore_index=True)
    cell = max(4, 24 // s * 2)
    width = (k * (s + 1) - 1) * cell
    chart = alt.Chart(data).mark_rect().encode(
        x=alt.X("x:O", axis=None),
        y=alt.Y("y:O", axis=None),
        color=alt.Color("v:Q", scale=alt.Scale(scheme="greys", domain=[0, 1]), legend=None),
    ).properties(width=width, height=s * cell).facet(
        row=alt.Row("row:N", sort=[label for label, _ in rows], title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=12)),
        spacing=4,
    ).properties(title="The same latent points, decoded by each generation")
    return charts.style(chart)


def latent_chart(chain: VAEChain, generation: int | None = None) -> alt.HConcatChart:
    """The generation-0 encoder's view of every generation: spread (left), codes (right).

    Left: latent spread per generation, against the real data's. Right: the codes of one
    generation (slider) on the two principal axes of the real data's codes, real codes in grey.
    Used in chapter 5, Collapse in models trained from scratch.
    """
    if not isinstance(chain, VAEChain):
        raise ValueError(f"chain must be a VAEChain (got {type(chain).__name__})")
    n = chain.n_generations
    generation = n if generation is None else check_int("generation", generation, 0, n)
    spread = pd.DataFrame({"generation": np.arange(n + 1), "spread": chain.spread().round(4)})
    real_level = chain.real_spread()
    x = alt.X("generation:Q", title="generation n", axis=alt.Axis(tickMinStep=1))
    line = alt.Chart(spread).mark_line(point=True, color="#4c78a8").encode(
        x, alt.Y("spread:Q", title="latent spread (gen-0 encoder)", scale=alt.Scale(zero=True)),
        tooltip=["generation", "spread"])
    rule = alt.Chart(pd.DataFrame({"spread": [real_level]})).mark_rule(
        color="#222222", strokeDash=[5, 3]).encode(y="spread:Q")
    label = alt.Chart(pd.DataFrame({"spread": [real_level], "t": ["real data"]})).mark_text(
        align="left", dx=4, dy=-6, color="#222222").encode(y="spread:Q", text="t:N", x=alt.value(0))
    left = alt.layer(line, rule, label).properties(width=260, height=260,
                                                   title="Spread of the latent codes")
    centre = chain.real_latents.mean(axis=0)
    _, _, vt = np.linalg.svd(chain.real_latents - centre, full_matrices=False)
    axes = vt[:2].T

    def project(z):
        return (z - centre) @ axes

    # At most about 2500 points in all: a light page (Altair refuses more than 5000 rows).
    per = max(1, min(chain.latents.shape[1], 2500 // (n + 2)))
    frames = [pd.DataFrame(project(chain.real_latents[:per]), columns=["pc1", "pc2"]).assign(
        generation=-1)]
    for g in range(n + 1):
        frames.append(pd.DataFrame(project(chain.latents[g, :per]),
                                   columns=["pc1", "pc2"]).assign(generation=g))
    codes = pd.concat(frames, ignore_index=True).round(3)
    lim = float(np.abs(codes[["pc1", "pc2"]]).quantile(0.995).max()) * 1.05
    pick = alt.param(name="vae_generation", value=generation, bind=alt.binding_range(
        min=0, max=n, step=1, name="generation "))
    scale = alt.Scale(domain=[-lim, lim])
    xs, ys = alt.X("pc1:Q", title="axis 1", scale=scale), alt.Y("pc2:Q", title="axis 2",
                                                                 scale=scale)
    base = alt.Chart(codes)
    real = base.transform_filter(alt.datum.generation == -1).mark_circle(
        size=12, color="#bbbbbb", opacity=0.6).encode(xs, ys)
    gen = base.transform_filter(alt.datum.generation == pick).mark_circle(
        size=14, color="#e45756", opacity=0.7).encode(xs, ys)
    right = alt.layer(real, gen).add_params(pick).properties(
        width=260, height=260, title="Codes: real data (grey), generation n (red)")
    return charts.style(alt.hconcat(left, right))
