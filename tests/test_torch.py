"""Tests for collapse_utils._torch: the one device choice, thread limit and torch seeding."""

import numpy as np
import pytest
import torch

from collapse_utils._torch import (
    deterministic,
    limit_threads,
    resolve_device,
    seeded,
    torch_generator,
    torch_seed,
)


def test_resolve_device_auto_and_explicit():
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None) == resolve_device("auto") == auto
    assert resolve_device("cpu") == resolve_device(torch.device("cpu")) == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a CPU-only machine")
def test_resolve_device_refuses_a_missing_gpu():
    with pytest.raises(ValueError, match="^device is 'cuda' but torch sees no CUDA device"):
        resolve_device("cuda")


@pytest.mark.parametrize("bad", ["gpu-17", "meta", 3, ["cpu"]])
def test_resolve_device_refuses_unknown_devices(bad):
    with pytest.raises(ValueError, match="^device must be None, 'auto', 'cpu', 'cuda'"):
        resolve_device(bad)


def test_limit_threads_restores_the_setting():
    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with limit_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), limit_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_limit_threads_checks_its_argument_at_once():
    with pytest.raises(ValueError, match="^num_threads must be an integer >= 1"):
        limit_threads(0)


def test_torch_seed_from_ints_generators_and_none():
    assert torch_seed(3) == 3 and torch_seed(np.uint64(2**63)) == 2**63
    rng = np.random.default_rng(3)
    first, second = torch_seed(rng), torch_seed(rng)
    assert first != second  # a Generator advances
    assert first == torch_seed(np.random.default_rng(3))  # and is reproducible
    assert 0 <= torch_seed(None) < 2**62
    a = torch.randn(4, generator=torch_generator(7))
    assert torch.equal(a, torch.randn(4, generator=torch_generator(7)))
    assert torch.equal(a, torch.randn(4, generator=torch.Generator().manual_seed(7)))


@pytest.mark.parametrize("bad", [-1, 2**64])
def test_torch_seed_refuses_out_of_range_ints(bad):
    with pytest.raises(ValueError, match=r"^seed must be an integer in 0\.\.2\*\*64 - 1"):
        torch_seed(bad)


def test_seeded_is_manual_seed_then_restores_the_global_state():
    state = torch.random.get_rng_state()
    with seeded(5) as value:
        a = torch.rand(3)
    assert value == 5 and torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(5)
    assert torch.equal(torch.rand(3), a)
    torch.random.set_rng_state(state)
    with seeded(np.random.default_rng(0)) as value:
        assert value == torch_seed(np.random.default_rng(0))


def test_deterministic_sets_cudnn_and_restores_it():
    cudnn = torch.backends.cudnn
    old = cudnn.deterministic, cudnn.benchmark
    with deterministic():
        assert cudnn.deterministic and not cudnn.benchmark
    assert (cudnn.deterministic, cudnn.benchmark) == old
