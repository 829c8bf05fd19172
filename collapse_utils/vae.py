"""A small convolutional VAE refitted on its own samples: collapse in a model trained from scratch.

Chapter 5, Collapse in models trained from scratch. The paper trains a convolutional variational
autoencoder (VAE) on MNIST; each later generation is trained from scratch on images decoded, by the
previous generation's decoder, from latent points drawn from the prior N(0, I). The generation-0
encoder then scores every generation's samples: their latent codes lose spread.

Offline, this module uses the 8x8 handwritten digits that scikit-learn ships
(``sklearn.datasets.load_digits``, 1797 images); on Colab :func:`load_images` also loads MNIST
(28x28) with Hugging Face ``datasets``, the paper's setting. The same code handles both sizes.
:func:`recursive_vae` returns a :class:`~collapse_utils.chains.Chains`; its charts are in
:mod:`collapse_utils.figures.vae`. Devices, threads and torch seeds go through
:mod:`collapse_utils._torch`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import as_rng, check_choice, check_int, check_nonnegative, show
from ._progress import progress_bar
from ._torch import deterministic, limit_threads, resolve_device, seeded, torch_generator
from .chains import Chains

__all__ = [
    "DATASETS",
    "LIKELIHOODS",
    "VAE",
    "check_chains",
    "decode_samples",
    "elbo_loss",
    "encode",
    "findings",
    "kl_to_standard_normal",
    "load_images",
    "real_spread",
    "recursive_vae",
    "spread",
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


def train_vae(images, latent_dim: int = 8, epochs: int = 20, batch_size: int = 64,
              lr: float = 2e-3, likelihood: str = "gaussian", pixel_std: float = 0.1,
              seed=None, device=None, num_threads: int | None = 1) -> tuple[VAE, list[float]]:
    """Train a fresh :class:`VAE` on ``images`` with Adam; return it and the loss per epoch.

    The paper trains its MNIST VAE for 30 epochs with Adam at learning rate 1e-3; the defaults
    here are smaller and faster, for the 8x8 digits on a CPU. ``seed`` (None, int or numpy
    Generator) fixes the initial weights, the batches and the noise, through a
    ``torch.Generator`` (cuDNN kept deterministic, so a GPU repeats itself too). ``device``:
    None picks CUDA when available (on Colab with a GPU), else the CPU. ``num_threads``: CPU
    threads for torch while training (restored after); one suits these small networks, and on a
    busy machine more threads mostly wait for each other (None keeps torch's setting).
    Used in chapter 5, Collapse in models trained from scratch.
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
    device = resolve_device(device)
    with limit_threads(num_threads), deterministic():
        return _train(images, latent_dim, epochs, batch_size, lr, likelihood, pixel_std,
                      as_rng(seed), device)


def _train(images, latent_dim, epochs, batch_size, lr, likelihood, pixel_std, rng, device):
    gen = torch_generator(rng)
    with seeded(rng):  # the initial weights, without touching torch's global random state
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
        z = torch.randn(n, model.latent_dim, generator=torch_generator(seed))
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


def recursive_vae(n_generations: int = 10, images=None, latent_dim: int = 8, epochs: int = 20,
                  batch_size: int = 64, lr: float = 2e-3, likelihood: str = "gaussian",
                  pixel_std: float = 0.1, n_samples: int | None = None, n_show: int = 8,
                  n_score: int = 500, seed=None, device=None, num_threads: int | None = 1,
                  progress: bool = True) -> Chains:
    """Train a VAE, then train each next generation from scratch on the last one's samples.

    Generation 0 trains on ``images`` (default: the 8x8 digits). Generation n >= 1 trains a fresh
    VAE on ``n_samples`` images (default: as many as the real data) decoded by generation
    n - 1 from z ~ N(0, I), as in the paper. The generation-0 encoder scores ``n_score`` samples
    of every generation; every generation's decoder is also applied to the same ``n_show`` latent
    points, for the image grids. Training settings (and ``device``, ``num_threads``) as in
    :func:`train_vae`; ``progress`` shows a bar over the generations (``tqdm.auto``, off when
    ``TQDM_DISABLE`` is set).

    Used in chapter 5, Collapse in models trained from scratch.

    Returns
    -------
    Chains
        One chain (``n_chains == 1``), row n for generation n:

        - ``latents`` (n + 1, 1, n_score, latent_dim): the generation-0 encoder's means for
          ``n_score`` samples of generation n (see :func:`spread`);
        - ``grids`` (n + 1, 1, n_show, side, side): generation n's decoder on the same ``n_show``
          latent points;
        - ``pixel_spread`` (n + 1, 1): the standard deviation across generation n's samples of
          each pixel, averaged over pixels: how much its samples differ from one another;
        - ``losses`` (n + 1, 1, epochs): the training loss per epoch.

        ``info`` holds ``real`` (n_show, side, side), real training images; ``real_latents``
        (n_score, latent_dim), the generation-0 encoder's means for real images (see
        :func:`real_spread`); and the settings.
    """
    n = check_int("n_generations", n_generations, 0)
    images = load_images("digits") if images is None else _check_images(images)
    n_samples = images.shape[0] if n_samples is None else check_int("n_samples", n_samples, 1)
    n_show = check_int("n_show", n_show, 1)
    n_score = check_int("n_score", n_score, 2)
    latent_dim = check_int("latent_dim", latent_dim, 1)
    rng = as_rng(seed)
    kw = dict(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, lr=lr,
              likelihood=likelihood, pixel_std=pixel_std, device=resolve_device(device),
              num_threads=num_threads)
    show_z = torch.randn(n_show, latent_dim, generator=torch_generator(rng))
    real_idx = np.sort(rng.choice(images.shape[0], size=min(n_score, images.shape[0]),
                                  replace=False))
    grids, latents, losses, spreads = [], [], [], []
    data = images
    encoder0 = None
    bar = progress_bar(total=n + 1, desc="VAE generations", enabled=progress)
    # The whole loop under one thread setting: decoding with a different number of threads
    # changes the last bits of the samples, and training amplifies them.
    with bar, limit_threads(num_threads):
        for _g in range(n + 1):
            model, loss = train_vae(data, seed=rng, **kw)
            losses.append(loss)
            if encoder0 is None:
                encoder0 = model
            samples = decode_samples(model, max(n_samples, n_score), seed=rng)
            latents.append(encode(encoder0, samples[:n_score]))
            grids.append(decode_samples(model, 0, z=show_z)[:, 0].numpy())
            spreads.append(float(samples[:n_samples].std(dim=0).mean()))
            data = samples[:n_samples]
            bar.update()
        real_latents = encode(encoder0, images[real_idx])
    params = {"latents": np.stack(latents)[:, None], "grids": np.stack(grids)[:, None],
              "pixel_spread": np.array(spreads)[:, None], "losses": np.array(losses)[:, None]}
    info = {"real": images[real_idx[:n_show], 0].numpy(), "real_latents": real_latents,
            "likelihood": likelihood, "latent_dim": latent_dim, "epochs": epochs,
            "n_samples": n_samples}
    return Chains(params, info)


def check_chains(chains) -> Chains:
    """``chains`` if it is what :func:`recursive_vae` returns, else a ValueError."""
    if not isinstance(chains, Chains) or "latents" not in chains.params \
            or "real_latents" not in chains.info:
        raise ValueError(f"chains must be the Chains that vae.recursive_vae returns "
                         f"(got {show(chains)})")
    return chains


def spread(chains: Chains) -> np.ndarray:
    """Latent spread per generation: the standard deviation of the generation-0 encoder's means
    over a generation's samples, averaged over latent dimensions. Shape (n_generations + 1,
    n_chains). The paper's measure of a VAE's collapse; used in chapter 5."""
    return check_chains(chains).latents.std(axis=2).mean(axis=-1)


def real_spread(chains: Chains) -> float:
    """The same spread for real images: the level a generation's samples would show if they were
    as varied as the data. Used in chapter 5."""
    return float(check_chains(chains).info["real_latents"].std(axis=0).mean())


def findings(chains: dict[str, Chains], fraction: float = 0.1) -> dict[str, float]:
    """The numbers chapter 5 states about its VAE chains, by name (for ``glue``).

    ``chains`` maps a name (the decoder: "gaussian", "bernoulli") to a :func:`recursive_vae`
    chain. For each: ``{name}_collapse``, the first generation whose latent spread
    (:func:`spread`) is below ``fraction`` of generation 0's (-1 if none);
    ``{name}_spread_falls``, whether the spread falls at every generation (1 or 0);
    ``{name}_below_real``, whether generation 0's spread is below the real data's (1 or 0);
    ``{name}_pixel_first``, ``{name}_pixel_last`` and ``{name}_pixel_fall``, the pixels' spread
    across samples at the first and last generation and their ratio. Used in chapter 5.
    """
    if not isinstance(chains, dict) or not chains:
        raise ValueError(f"chains must be a non-empty dict of recursive_vae chains by name "
                         f"(got {show(chains)})")
    fraction = check_nonnegative("fraction", fraction)
    out = {}
    for name, c in chains.items():
        s = spread(check_chains(c))[:, 0]
        below = np.flatnonzero(s < fraction * s[0])
        pixels = c.pixel_spread[:, 0]
        out |= {f"{name}_collapse": int(below[0]) if below.size else -1,
                f"{name}_spread_falls": int(bool(np.all(np.diff(s) < 0))),
                f"{name}_below_real": int(bool(s[0] < real_spread(c))),
                f"{name}_pixel_first": float(pixels[0]), f"{name}_pixel_last": float(pixels[-1]),
                f"{name}_pixel_fall": float(pixels[0] / pixels[-1])}
    return out
