"""Selective-scan layers: shapes, causality of the forward mixer, the backward scan's view, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from geofuse.backend.models.selective_scan import selective_scan_fn
from geofuse.backend.models.ssm import BidirectionalSSM, SelectiveSSM, scan_directions


def _long_memory(layer: SelectiveSSM) -> SelectiveSSM:
    """Δ ≈ 1.3 and A = −0.1: a slowly decaying state, so inputs far apart visibly interact (at Mamba's
    initialisation a token 5 steps away moves the output by only ~1e-5)."""
    with torch.no_grad():
        layer.dt_proj.bias.fill_(1.0)
        layer.A_log.fill_(math.log(0.1))
    return layer


def _reference_mixer(layer: SelectiveSSM, u: torch.Tensor) -> torch.Tensor:
    """The Mamba mixer written out plainly, token-major with explicit transposes, one layer at a time."""
    length = u.shape[1]
    x, z = layer.in_proj(u).transpose(1, 2).chunk(2, dim=1)
    x = torch.nn.functional.silu(layer.conv1d(x)[..., :length])
    delta, B, C = layer.x_proj(x.transpose(1, 2)).split([layer.dt_rank, layer.d_state, layer.d_state], dim=-1)
    delta = (delta @ layer.dt_proj.weight.T).transpose(1, 2)
    y = selective_scan_fn(
        x,
        delta,
        -torch.exp(layer.A_log),
        B.transpose(1, 2).contiguous(),
        C.transpose(1, 2).contiguous(),
        layer.D,
        z=z,
        delta_bias=layer.dt_proj.bias,
        delta_softplus=True,
    )
    return layer.out_proj(y.transpose(1, 2))


def test_layers_match_the_plain_reference_forward_and_backward() -> None:
    torch.manual_seed(5)
    layer = BidirectionalSSM(8, d_state=4, expand=2)
    _long_memory(layer.backward_scan)
    u = torch.randn(2, 13, 8, requires_grad=True)
    out = layer(u)
    normed = layer.norm(u)
    expected = (
        u
        + _reference_mixer(layer.forward_scan, normed)
        + _reference_mixer(layer.backward_scan, normed.flip(1)).flip(1)
    )
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.allclose(layer.forward_scan(u), _reference_mixer(layer.forward_scan, u), atol=1e-5)
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), [u, *layer.parameters()])
    expected_grads = torch.autograd.grad((expected * weights).sum(), [u, *layer.parameters()])
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert torch.allclose(grad, expected_grad, atol=1e-4, rtol=1e-4)


def test_scan_directions_runs_each_mixer_on_its_own_sequence() -> None:
    torch.manual_seed(6)
    layers = [_long_memory(SelectiveSSM(8, d_state=4)), SelectiveSSM(8, d_state=4)]
    v = torch.randn(2, 2, 9, 8)
    together = scan_directions(layers, v)
    assert together.shape == v.shape
    for i, layer in enumerate(layers):
        assert torch.allclose(together[:, i], scan_directions([layer], v[:, i : i + 1])[:, 0], atol=1e-6)
    # Swapping the sequences changes the result: mixer i really reads sequence i with its own weights.
    assert not torch.allclose(scan_directions(layers, v.flip(1)).flip(1), together, atol=1e-4)


def test_selective_ssm_shape_and_initialisation() -> None:
    torch.manual_seed(0)
    layer = SelectiveSSM(16, d_state=4, expand=2, dt_min=0.001, dt_max=0.1)
    assert layer(torch.randn(2, 11, 16)).shape == (2, 11, 16)
    # S4D-real: A_n = −n for every channel.
    assert torch.allclose(-torch.exp(layer.A_log), -torch.arange(1.0, 5.0).expand(32, 4))
    # softplus(dt bias) is the initial step Δ, inside [dt_min, dt_max].
    dt = torch.nn.functional.softplus(layer.dt_proj.bias)
    assert dt.min() >= 0.001 - 1e-6 and dt.max() <= 0.1 + 1e-6
    assert layer.dt_rank == math.ceil(16 / 16)


def test_selective_ssm_is_causal() -> None:
    torch.manual_seed(1)
    layer = _long_memory(SelectiveSSM(8, d_state=4))
    u = torch.randn(1, 20, 8)
    changed = u.clone()
    changed[:, 12:] = torch.randn(1, 8, 8)
    before, after = layer(u), layer(changed)
    assert torch.allclose(before[:, :12], after[:, :12], atol=1e-6)
    assert not torch.allclose(before[:, 12:], after[:, 12:], atol=1e-4)


def test_bidirectional_sees_past_and_future() -> None:
    torch.manual_seed(2)
    layer = BidirectionalSSM(8, d_state=4)
    _long_memory(layer.forward_scan)
    _long_memory(layer.backward_scan)
    u = torch.randn(1, 20, 8)
    out = layer(u)
    assert out.shape == u.shape
    future_changed = u.clone()
    future_changed[:, 15:] = torch.randn(1, 5, 8)
    past_changed = u.clone()
    past_changed[:, :5] = torch.randn(1, 5, 8)
    # Token 10 reacts to a change 5+ tokens after it (backward scan) and before it (forward scan), beyond
    # the reach of the width-4 convolutions.
    assert (layer(future_changed)[:, 10] - out[:, 10]).abs().max() > 1e-5
    assert (layer(past_changed)[:, 10] - out[:, 10]).abs().max() > 1e-5


def test_backward_scan_is_anticausal() -> None:
    torch.manual_seed(3)
    layer = BidirectionalSSM(8, d_state=4)
    u = torch.randn(1, 16, 8)
    changed = u.clone()
    changed[:, :6] = torch.randn(1, 6, 8)
    normed, normed_changed = layer.norm(u), layer.norm(changed)
    backward = layer.backward_scan(normed.flip(1)).flip(1)
    backward_changed = layer.backward_scan(normed_changed.flip(1)).flip(1)
    # The backward direction's output at t depends only on tokens ≥ t.
    assert torch.allclose(backward[:, 6:], backward_changed[:, 6:], atol=1e-6)


@pytest.mark.parametrize("layer_type", [SelectiveSSM, BidirectionalSSM])
def test_gradients_reach_input_and_every_parameter(layer_type: type) -> None:
    torch.manual_seed(4)
    layer = layer_type(8, d_state=4)
    u = torch.randn(2, 10, 8, requires_grad=True)
    layer(u).pow(2).sum().backward()
    assert u.grad is not None and u.grad.abs().sum() > 0
    for name, parameter in layer.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def _flipped_copies(layer: BidirectionalSSM, u: torch.Tensor) -> torch.Tensor:
    """The previous forward pass: LN(u) and its flipped copy scanned by `scan_directions`, flipped back."""
    normed = layer.norm(u)
    both = torch.stack((normed, normed.flip(1)), 1)
    mixed = scan_directions((layer.forward_scan, layer.backward_scan), both)
    return u + mixed[:, 0] + mixed[:, 1].flip(1)


@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float64, 1e-12), (torch.float32, 1e-5)])
@pytest.mark.parametrize("length", [1, 2, 5, 300])
def test_bidirectional_matches_the_flipped_copies_path(dtype: torch.dtype, rtol: float, length: int) -> None:
    """Both directions in token order (shifted views, one scan) give the flipped copies' outputs and
    gradients: exactly in float64, to rounding in float32; also for sequences shorter than the convolution."""
    torch.manual_seed(7)
    layer = BidirectionalSSM(8, d_state=4, expand=2).to(dtype)
    with torch.no_grad():  # away from the initialisation, so that every parameter matters
        for parameter in layer.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    u = torch.randn(2, length, 8, dtype=dtype, requires_grad=True)
    weight = torch.randn(2, length, 8, dtype=dtype)
    got, want = layer(u), _flipped_copies(layer, u)
    leaves = [u, *layer.parameters()]
    got_grads = torch.autograd.grad((got * weight).sum(), leaves)
    want_grads = torch.autograd.grad((want * weight).sum(), leaves)
    for a, b in zip((got, *got_grads), (want, *want_grads), strict=True):
        torch.testing.assert_close(a, b, rtol=rtol, atol=rtol * float(b.detach().abs().max()))


@pytest.mark.parametrize("direction", ["forward_scan", "backward_scan"])
def test_each_direction_of_the_layer_is_causal_in_its_order(direction: str) -> None:
    """With the other direction's output projection zeroed, token t of the layer's output depends only on
    tokens ≤ t (forward) or ≥ t (backward: its convolution is anti-causal along the tokens)."""
    torch.manual_seed(8)
    layer = BidirectionalSSM(8, d_state=4)
    _long_memory(getattr(layer, direction))
    other = layer.backward_scan if direction == "forward_scan" else layer.forward_scan
    with torch.no_grad():
        other.out_proj.weight.zero_()
    u = torch.randn(1, 16, 8)
    changed = u.clone()
    changed[:, 7] = torch.randn(8)
    moved = (layer(changed) - layer(u)).abs().amax(-1)[0]
    unaffected, affected = (moved[:7], moved[8:]) if direction == "forward_scan" else (moved[8:], moved[:7])
    assert unaffected.max() == 0
    assert affected.min() > 0
