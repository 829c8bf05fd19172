"""Charts of the recursive VAE of chapter 5 (:mod:`collapse_utils.vae`).

Both take the :class:`~collapse_utils.chains.Chains` that :func:`collapse_utils.vae.recursive_vae`
returns (its first chain); neither trains or samples anything.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import vae
from .._checks import check_int
from ..chains import Chains
from . import style

__all__ = ["image_grid_chart", "latent_chart"]




def image_grid_chart(chains: Chains, generations=None, max_rows: int = 5000) -> alt.FacetChart:
    """Greyscale image grid: real images on top, then each generation's decoder on the same z.

    Drawn with Altair rectangles (one per pixel); images larger than fits ``max_rows`` rows are
    shown average-pooled. Used in chapter 5, Collapse in models trained from scratch.
    """
    chains = vae.check_chains(chains)
    max_rows = check_int("max_rows", max_rows, 1)
    n = chains.n_generations
    gens = list(range(n + 1)) if generations is None else [
        check_int("generations", g, 0, n) for g in generations]
    real = chains.info["real"]
    rows = [("real data", real)] + [(f"generation {g}", chains.grids[g, 0]) for g in gens]
    k, side = real.shape[0], real.shape[-1]
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
            "v": pooled[idx, yy, xx].ravel()}))
    data = style.rounded(pd.concat(frames, ignore_index=True), digits=3)
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
    ).properties(title=style.title("The same latent points, decoded by each generation"),
                 usermeta={"keepAspect": True})
    return style.style(chart, description=(
        f"A grid of {k} greyscale images per row: real images on top, then what each of the "
        f"generations {', '.join(map(str, gens))} decodes from the same latent points."))


def latent_chart(chains: Chains, generation: int | None = None) -> alt.HConcatChart:
    """The generation-0 encoder's view of every generation: spread (left), codes (right).

    Left: latent spread per generation (:func:`collapse_utils.vae.spread`), against the real
    data's (:func:`collapse_utils.vae.real_spread`). Right: the codes of one generation (slider,
    starting at ``generation``, default the last) on the two principal axes of the real data's
    codes, real codes in grey. Used in chapter 5, Collapse in models trained from scratch.
    """
    chains = vae.check_chains(chains)
    n = chains.n_generations
    generation = n if generation is None else check_int("generation", generation, 0, n)
    spreads = style.rounded(pd.DataFrame({"generation": np.arange(n + 1),
                                          "spread": vae.spread(chains)[:, 0]}), digits=4)
    real_level = vae.real_spread(chains)
    x = alt.X("generation:Q", title="generation n", axis=alt.Axis(tickMinStep=1))
    line = alt.Chart(spreads).mark_line(point=True, color=style.PALETTE["simulation"]).encode(
        x, alt.Y("spread:Q", title="latent spread (gen-0 encoder)", scale=alt.Scale(zero=True)),
        tooltip=["generation", "spread"])
    level = pd.DataFrame({"spread": [real_level], "t": ["real data"]})
    rule = alt.Chart(level).mark_rule(color=style.PALETTE["truth"], strokeDash=[5, 3]).encode(
        y="spread:Q")
    label = alt.Chart(level).mark_text(align="left", dx=4, dy=-6, color=style.PALETTE["truth"]
                                       ).encode(y="spread:Q", text="t:N", x=alt.value(0))
    left = alt.layer(line, rule, label).properties(width=260, height=260,
                                                   title=style.title("Spread of the latent codes",
                                                                     width=260))
    real_latents = chains.info["real_latents"]
    latents = chains.latents[:, 0]
    centre = real_latents.mean(axis=0)
    _, _, vt = np.linalg.svd(real_latents - centre, full_matrices=False)
    axes = vt[:2].T
    if axes.shape[1] < 2:  # a one-dimensional latent space: the second axis is flat
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))

    def project(z):
        return (z - centre) @ axes

    # At most about 2500 points in all: a light page (Altair refuses more than 5000 rows).
    per = max(1, min(latents.shape[1], 2500 // (n + 2)))
    frames = [pd.DataFrame(project(real_latents[:per]), columns=["pc1", "pc2"]).assign(
        generation=-1)]
    for g in range(n + 1):
        frames.append(pd.DataFrame(project(latents[g, :per]),
                                   columns=["pc1", "pc2"]).assign(generation=g))
    codes = style.rounded(pd.concat(frames, ignore_index=True), digits=3)
    lim = float(np.abs(codes[["pc1", "pc2"]]).quantile(0.995).max()) * 1.05 or 1.0
    pick = alt.param(name="vae_generation", value=generation, bind=alt.binding_range(
        min=0, max=n, step=1, name="generation "))
    scale = alt.Scale(domain=[-lim, lim])
    xs = alt.X("pc1:Q", title="axis 1", scale=scale)
    ys = alt.Y("pc2:Q", title="axis 2", scale=scale)
    base = alt.Chart(codes)
    real = base.transform_filter(alt.datum.generation == -1).mark_circle(
        size=12, color=style.PALETTE["muted"], opacity=0.6).encode(xs, ys)
    gen = base.transform_filter(alt.datum.generation == pick).mark_circle(
        size=14, color=style.PALETTE["highlight"], opacity=0.7).encode(xs, ys)
    right = alt.layer(real, gen).add_params(pick).properties(
        width=260, height=260,
        title=style.title("Latent codes", "real data (grey), generation n (red)", width=260))
    return style.style(alt.hconcat(left, right), description=(
        "Two panels: the spread of the latent codes over the generations against the real "
        "data's, and the codes of the generation the slider picks on the real codes' two "
        "principal axes, real codes in grey."))
