"""OPT's forward written out (collapse_utils.lm.opt) computes what transformers' forward does."""

import pytest
import torch

from collapse_utils.lm.opt import causal_forward, lm_loss, supports
from tests.test_lm_beam import opt


def test_loss_and_gradients_match_transformers():
    model = opt(seed=1, dropout=0.0).train()
    ids = torch.randint(3, 300, (6, 24), generator=torch.Generator().manual_seed(0))
    want = model(input_ids=ids, labels=ids, use_cache=False).loss
    want.backward()
    want_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    got = lm_loss(model, ids, training=True)
    got.backward()
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    for g, w in zip((p.grad for p in model.parameters()), want_grads, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)


def test_dropout_acts_only_in_training():
    # which random numbers a dropout mask uses differs between transformers versions, so the
    # masks are not compared; what is checked: no dropout when evaluating, dropout when training
    model = opt(seed=1, dropout=0.1).train()
    ids = torch.randint(3, 300, (6, 24), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = model.eval()(input_ids=ids, labels=ids).loss.item()
        assert lm_loss(model, ids, training=False).item() == pytest.approx(want, rel=1e-6)
        torch.manual_seed(0)
        a, b = (lm_loss(model, ids, training=True).item() for _ in range(2))
    assert a != b and abs(a - want) < 0.5 and abs(b - want) < 0.5


def test_hidden_states_and_cache_match_transformers():
    model = opt(seed=2).eval()
    ids = torch.randint(3, 300, (3, 10), generator=torch.Generator().manual_seed(1))
    out = model(input_ids=ids, use_cache=True, output_hidden_states=True)
    hidden, kv = causal_forward(model, ids, keep_kv=True)
    torch.testing.assert_close(model.lm_head(hidden), out.logits, rtol=1e-5, atol=1e-5)
    assert len(kv) == model.config.num_hidden_layers
    assert kv[0][0].shape == (3, model.config.num_attention_heads, 10, 64 // 4)


def test_supports_only_the_layout_it_implements():
    assert supports(opt())
    assert not supports(opt(do_layer_norm_before=False))
    assert not supports(opt(layerdrop=0.1))
    assert not supports(torch.nn.Linear(2, 2))
