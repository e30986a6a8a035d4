"""CNN and VSS encoder branches: stage shapes and strides, SS2D's cost and its four scan directions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from geofuse.backend.models.cnn import CNNEncoder
from geofuse.backend.models.selective_scan import selective_scan_fn
from geofuse.backend.models.vss import SS2D, VSSEncoder

CHANNELS = (8, 16, 24, 32)


class ElementCounter(TorchDispatchMode):
    """Counts the elements every non-view aten op writes: FlopCounterMode sees only matmuls and
    convolutions, this also sees the scan's elementwise work (exp, multiply-adds, the chunked recurrence)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def __torch_dispatch__(
        self, func: Callable[..., Any], types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        if func.is_view:  # views write nothing
            return out
        for tensor in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(tensor, torch.Tensor):
                self.elements += tensor.numel()
        return out


@pytest.mark.parametrize(
    "encoder",
    [
        CNNEncoder(3, CHANNELS, (1, 1, 1, 1)),
        VSSEncoder(1, CHANNELS, (1, 1, 1, 1), d_state=2),
    ],
    ids=["cnn", "vss"],
)
def test_stage_shapes_and_strides(encoder: torch.nn.Module) -> None:
    in_channels = 3 if isinstance(encoder, CNNEncoder) else 1
    features = encoder(torch.randn(2, in_channels, 64, 96))
    assert encoder.strides == (4, 8, 16, 32)
    assert [tuple(f.shape) for f in features] == [
        (2, c, 64 // s, 96 // s) for c, s in zip(CHANNELS, encoder.strides, strict=True)
    ]
    # The stem and stages are exposed so the network can fuse between stages.
    assert len(encoder.stages) == 4


def test_encoders_refuse_a_wrong_number_of_stages() -> None:
    with pytest.raises(ValueError, match="4 stages"):
        CNNEncoder(3, (8, 16, 32), (1, 1, 1))
    with pytest.raises(ValueError, match="4 stages"):
        VSSEncoder(1, (8, 16, 32), (1, 1, 1))


def cost(module: torch.nn.Module, side: int) -> tuple[int, int]:
    """(matmul/conv FLOPs, elements written by all ops) of one forward pass on a side×side map."""
    x = torch.randn(1, side, side, 16)
    with torch.no_grad(), FlopCounterMode(display=False) as flops, ElementCounter() as elements:
        module(x)
    return flops.get_total_flops(), elements.elements


def test_ss2d_cost_is_linear_in_tokens() -> None:
    """4× the tokens costs ≈ 4× (not 16×), both in FLOPs and in the scan's elementwise work."""
    ss2d = SS2D(16, d_state=4).eval()
    flops_small, elements_small = cost(ss2d, 16)
    flops_large, elements_large = cost(ss2d, 32)
    assert 3.8 < flops_large / flops_small < 4.2
    assert 3.5 < elements_large / elements_small < 4.5


def one_pixel_changes(ss2d: SS2D, row: int, col: int) -> torch.Tensor:
    """Which outputs of each direction change when input pixel (row, col) changes: K×H×W booleans."""
    torch.manual_seed(0)
    x = torch.randn(1, ss2d.d_inner, 6, 5)
    bumped = x.clone()
    bumped[0, :, row, col] += 1.0
    with torch.no_grad():
        change = (ss2d.scan_directions(bumped) - ss2d.scan_directions(x)).abs().amax(dim=2)[0]
    return change > 1e-6


def test_each_direction_is_causal_in_its_own_order() -> None:
    """Output k at a pixel depends exactly on the pixels up to it in scan order k, so the four
    directions see four different halves of the map, and their sum sees all of it."""
    ss2d = SS2D(8, d_state=4).eval()
    row, col = 3, 2
    changed = one_pixel_changes(ss2d, row, col)
    index = torch.arange(30).view(6, 5)
    row_major, col_major = index, index.T.reshape(-1).argsort().view(6, 5)
    here_row, here_col = row_major[row, col], col_major[row, col]
    expected = torch.stack(
        [row_major >= here_row, col_major >= here_col, row_major <= here_row, col_major <= here_col]
    )
    assert torch.equal(changed, expected)
    assert len({tuple(e.flatten().tolist()) for e in expected}) == 4
    assert changed.any(dim=0).all()


def tie_directions(ss2d: SS2D) -> None:
    """Give all K directions direction 0's parameters."""
    with torch.no_grad():
        for name in ("x_proj_weight", "dt_proj_weight", "dt_proj_bias"):
            getattr(ss2d, name).copy_(getattr(ss2d, name)[:1].expand_as(getattr(ss2d, name)))
        for name in ("A_log", "D"):
            tensor = getattr(ss2d, name)
            tensor.copy_(
                tensor.view(ss2d.num_directions, ss2d.d_inner, -1)[:1]
                .expand(ss2d.num_directions, -1, -1)
                .reshape_as(tensor)
            )


def merged(ss2d: SS2D, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return ss2d.scan_directions(x).sum(dim=1)


def test_merged_scan_symmetry() -> None:
    """What the four orders buy, honestly: with the directions' parameters tied, the merged scan commutes
    with a 180° rotation (which swaps each order with its reverse) and with transposition (which swaps
    row- and column-major), but not with a horizontal flip (no scan runs right-to-left inside a row).
    With untied parameters (the default) each direction learns its own filter and none of these hold."""
    torch.manual_seed(0)
    ss2d = SS2D(8, d_state=4).eval()
    x = torch.randn(1, ss2d.d_inner, 6, 6)
    rotate = lambda t: t.flip(-1, -2)  # noqa: E731
    transpose = lambda t: t.transpose(-1, -2)  # noqa: E731
    hflip = lambda t: t.flip(-1)  # noqa: E731
    assert not torch.allclose(merged(ss2d, rotate(x)), rotate(merged(ss2d, x)), atol=1e-4)
    tie_directions(ss2d)
    torch.testing.assert_close(merged(ss2d, rotate(x)), rotate(merged(ss2d, x)), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(merged(ss2d, transpose(x)), transpose(merged(ss2d, x)), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(merged(ss2d, hflip(x)), hflip(merged(ss2d, x)), atol=1e-4)


def sequences_ss2d(ss2d: SS2D, x: torch.Tensor) -> torch.Tensor:
    """SS2D the way it was first written (and as VMamba writes it): the four direction sequences built as
    copies (transpose, stack, flip), one B×(K·d_inner)×L scan through ``selective_scan_fn``, each result
    flipped and transposed back to 2-D, summed. The reference for the index-map path of ``SS2D.forward``."""
    x, z = ss2d.in_proj(x).chunk(2, dim=-1)
    x = F.silu(ss2d.conv(x.permute(0, 3, 1, 2)))
    batch, channels, height, width = x.shape
    k, length = ss2d.num_directions, height * width
    forward = torch.stack([x.flatten(2), x.transpose(2, 3).flatten(2)], dim=1)
    xs = torch.cat([forward, forward.flip(-1)], dim=1)  # B K D L
    x_dbl = torch.einsum("bkdl,kcd->bkcl", xs, ss2d.x_proj_weight)
    dts, b_t, c_t = x_dbl.split([ss2d.dt_rank, ss2d.d_state, ss2d.d_state], dim=2)
    dts = torch.einsum("bkrl,kdr->bkdl", dts, ss2d.dt_proj_weight)
    y = selective_scan_fn(
        xs.reshape(batch, k * channels, length),
        dts.reshape(batch, k * channels, length),
        -torch.exp(ss2d.A_log),
        b_t.contiguous(),
        c_t.contiguous(),
        D=ss2d.D,
        delta_bias=ss2d.dt_proj_bias.flatten(),
        delta_softplus=True,
    ).view(batch, k, channels, length)
    y = torch.cat([y[:, :2], y[:, 2:].flip(-1)], dim=1)
    row_major = y[:, 0::2].view(batch, 2, channels, height, width)
    col_major = y[:, 1::2].view(batch, 2, channels, width, height).transpose(3, 4)
    merged = row_major.sum(1) + col_major.sum(1)
    return ss2d.out_proj(ss2d.out_norm(merged.permute(0, 2, 3, 1)) * F.silu(z))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("height", "width"), [(6, 5), (1, 7), (16, 16)])
def test_ss2d_matches_the_four_sequence_reference(dtype: torch.dtype, height: int, width: int) -> None:
    """The index-map scan gives the copying implementation's output and gradients (input and every
    parameter) to the dtype's rounding."""
    torch.manual_seed(0)
    ss2d = SS2D(12, d_state=3).to(dtype)
    x = torch.randn(2, height, width, 12, dtype=dtype, requires_grad=True)
    weight = torch.randn(2, height, width, 12, dtype=dtype)
    leaves = [x, *ss2d.parameters()]
    got = [ss2d(x), *torch.autograd.grad((ss2d(x) * weight).sum(), leaves)]
    want = [sequences_ss2d(ss2d, x), *torch.autograd.grad((sequences_ss2d(ss2d, x) * weight).sum(), leaves)]
    tolerance = 1e-10 if dtype == torch.float64 else 2e-5
    for index, (a, b) in enumerate(zip(got, want, strict=True)):
        scale = float(b.detach().abs().max()) + 1e-30
        torch.testing.assert_close(a, b, rtol=tolerance, atol=tolerance * scale, msg=f"output {index}")


def test_vss_encoder_trains() -> None:
    """Gradients reach every parameter, including A, D and the per-direction Δ, B, C projections.

    (At least 2 tokens per stage are needed for A to matter: with L = 1 the state starts at zero.)
    """
    encoder = VSSEncoder(1, CHANNELS, (1, 1, 1, 1), d_state=2)
    sum(f.square().mean() for f in encoder(torch.randn(1, 1, 64, 64))).backward()
    missing = [name for name, p in encoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
