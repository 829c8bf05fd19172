"""Time collapse_utils.gaussian.simulate: the exact law against explicit samples.

method="exact" draws the fitted mean and variance of each generation from their exact sampling
law (one chi2 and one normal per chain and generation); method="samples" draws all M samples and
fits them, M times more random numbers. The bare random draws of the exact method are the floor
no implementation of the exact law can beat.

The baseline runs on --baseline-chains chains and is scaled linearly to --chains (its cost is
proportional to the number of chains: one block of samples per generation, no cross-chain work).

Usage: python benchmarks/bench_gaussian.py [--chains 10000] [--generations 1000]
       [--sample-size 100] [--repeat 3] [--baseline-chains 500]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from collapse_utils.gaussian import simulate


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=10_000)
    parser.add_argument("--generations", type=int, default=1000)
    parser.add_argument("--sample-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline-chains",
        type=int,
        default=None,
        help="chains for method='samples', scaled to --chains (default: chains / 20, >= 1)",
    )
    args = parser.parse_args(argv)
    c, n, m = args.chains, args.generations, args.sample_size
    c_base = args.baseline_chains or max(1, c // 20)
    rng = np.random.default_rng(0)

    def floor_chisquare():
        rng.chisquare(m - 1, size=(n, c))
        rng.standard_normal((n, c))

    def floor_gamma():
        rng.standard_gamma((m - 1) / 2, size=(n, c))
        rng.standard_normal((n, c))

    def exact():
        simulate(n, m, n_chains=c, seed=1, method="exact")

    def samples():
        simulate(n, m, n_chains=c_base, seed=1, method="samples")

    rows = [
        ("floor: chisquare + normal draws", c, best_time(floor_chisquare, args.repeat)),
        ("floor: gamma + normal draws", c, best_time(floor_gamma, args.repeat)),
        ('simulate(method="exact")', c, best_time(exact, args.repeat)),
        ('simulate(method="samples")', c_base, best_time(samples, args.repeat)),
    ]
    exact = rows[2][2]
    print(
        f"chains={c} generations={n} sample_size={m} repeat={args.repeat} "
        f"(best of); numpy {np.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'what':34} {'chains run':>10} {'seconds':>9} {f's @ {c} chains':>16} {'/ exact':>8}")
    for name, chains, seconds in rows:
        scaled = seconds * c / chains
        print(f"{name:34} {chains:>10} {seconds:>9.3f} {scaled:>16.3f} {scaled / exact:>8.2f}")
    if c_base != c:
        print(f'method="samples" ran {c_base} chains; its time is scaled linearly to {c} chains.')


if __name__ == "__main__":
    main()
