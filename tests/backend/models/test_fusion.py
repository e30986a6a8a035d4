"""SFB and concat baseline: interleaving, shapes, alignment loss in train/eval, backward, OT modes."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from geofuse.backend.models.fusion import (
    ConcatFusion,
    FusionConfig,
    SynergisticFusionBlock,
    deinterleave,
    interleave,
    map_to_tokens,
    tokens_to_map,
)
from geofuse.backend.models.optimal_transport import transport_plans

VARIANTS = {
    "a0": FusionConfig(dim=8, d_state=4, use_mmd=False, scan_layers=0),
    "a1": FusionConfig(dim=8, d_state=4, scan_layers=0),
    "a2": FusionConfig(dim=8, d_state=4, scan_layers=1),
    "a3": FusionConfig(dim=8, d_state=4, scan_layers=2),
}


def test_interleave_order_and_round_trip() -> None:
    x_p = torch.arange(12.0).reshape(1, 3, 4)
    x_g = -torch.arange(12.0).reshape(1, 3, 4)
    mixed = interleave(x_p, x_g)
    assert mixed.shape == (1, 6, 4)
    assert torch.equal(mixed[0, 0::2], x_p[0]) and torch.equal(mixed[0, 1::2], x_g[0])
    back_p, back_g = deinterleave(mixed)
    assert torch.equal(back_p, x_p) and torch.equal(back_g, x_g)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sfb_shapes_loss_and_backward(variant: str) -> None:
    torch.manual_seed(0)
    config = VARIANTS[variant]
    block = SynergisticFusionBlock(6, config)
    f1 = torch.randn(2, 6, 5, 7, requires_grad=True)
    f2 = torch.randn(2, 6, 5, 7, requires_grad=True)
    fused, loss = block(f1, f2)
    assert fused.shape == (2, 6, 5, 7)
    assert loss.shape == ()
    if config.use_mmd:
        assert loss.item() > 0
    else:
        assert loss.item() == 0
    (fused.square().mean() + loss).backward()
    assert f1.grad is not None and f1.grad.abs().sum() > 0
    assert f2.grad is not None and f2.grad.abs().sum() > 0
    assert all(p.grad is not None for p in block.parameters())

    block.eval()
    with torch.no_grad():
        fused_eval, loss_eval = block(f1, f2)
    assert fused_eval.shape == (2, 6, 5, 7)
    assert loss_eval.item() == 0 and loss_eval.dtype == f1.dtype


def test_mmd_loss_gradient_reaches_projection() -> None:
    torch.manual_seed(1)
    block = SynergisticFusionBlock(4, FusionConfig(dim=8, scan_layers=0))
    _, loss = block(torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6) + 2.0)
    loss.backward()
    assert block.proj_in.weight.grad is not None and block.proj_in.weight.grad.abs().sum() > 0


def test_mmd_subsamples_large_maps() -> None:
    torch.manual_seed(2)
    config = FusionConfig(dim=8, scan_layers=0, mmd_max_tokens=10)
    block = SynergisticFusionBlock(4, config)
    f1, f2 = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    losses = {round(block(f1, f2)[1].item(), 7) for _ in range(4)}
    assert len(losses) > 1  # a fresh random subset of 10 of the 64 tokens each call


@pytest.mark.parametrize("use_ot", [False, True])
def test_without_scan_output_is_merge_of_aligned_tokens(use_ot: bool) -> None:
    torch.manual_seed(3)
    config = FusionConfig(dim=8, use_ot=use_ot, use_mmd=False, scan_layers=0)
    block = SynergisticFusionBlock(4, config).eval()
    f1, f2 = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)
    with torch.no_grad():
        unaligned = block.proj_out(torch.cat((block.proj_in(f1), block.proj_in(f2)), dim=1))
        fused = block(f1, f2)[0]
    # Without OT the tokens reach the merge untouched; with OT (random data) some are replaced.
    assert torch.allclose(fused, unaligned, atol=1e-6) is not use_ot


def test_block_refuses_unknown_modes_and_bad_pooling() -> None:
    with pytest.raises(ValueError, match="ot_mode"):
        SynergisticFusionBlock(4, FusionConfig(ot_mode="auto"))  # resolved by ModelConfig, never per tile
    with pytest.raises(ValueError, match="ot_assignment"):
        SynergisticFusionBlock(4, FusionConfig(ot_assignment="sinkhorn"))
    with pytest.raises(ValueError, match="scan_pool"):
        SynergisticFusionBlock(4, FusionConfig(scan_pool=0))


def test_one_to_one_block_merges_the_permuted_tokens() -> None:
    torch.manual_seed(8)
    config = FusionConfig(dim=8, d_state=4, scan_layers=0, ot_mode="window", ot_window=2)
    block = SynergisticFusionBlock(4, dataclasses.replace(config, ot_assignment="one-to-one")).eval()
    argmin = SynergisticFusionBlock(4, config).eval()
    argmin.load_state_dict(block.state_dict())
    f1, f2 = torch.randn(1, 4, 4, 6), torch.randn(1, 4, 4, 6)
    with torch.no_grad():
        x_p, x_g = (map_to_tokens(block.proj_in(f)) for f in (f1, f2))
        p_to_g, g_to_p = transport_plans(x_p, x_g, 4, 6, "window", window=2, assignment="one-to-one")
        aligned_p = torch.empty_like(x_p).index_copy_(1, p_to_g[0], x_p)  # X'_p at σ(i) is X_p at i
        aligned_g = torch.empty_like(x_g).index_copy_(1, g_to_p[0], x_g)
        by_hand = block.proj_out(tokens_to_map(torch.cat((aligned_p, aligned_g), -1), 4, 6).contiguous())
        fused = block(f1, f2)[0]
        assert torch.allclose(fused, by_hand, atol=1e-5)
        assert not torch.allclose(fused, argmin(f1, f2)[0], atol=1e-4)


def test_concat_fusion_shapes_zero_loss_backward() -> None:
    fusion = ConcatFusion(6)
    f1 = torch.randn(2, 6, 4, 5, requires_grad=True)
    f2 = torch.randn(2, 6, 4, 5, requires_grad=True)
    fused, loss = fusion(f1, f2)
    assert fused.shape == (2, 6, 4, 5)
    assert loss.item() == 0 and loss.shape == ()
    fused.sum().backward()
    assert f1.grad is not None and f1.grad.abs().sum() > 0 and f2.grad is not None


def test_alignment_loss_is_float32_under_bf16_autocast() -> None:
    torch.manual_seed(4)
    block = SynergisticFusionBlock(4, FusionConfig(dim=8, d_state=4, scan_layers=0))
    f1, f2 = torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6) + 1.0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fused, loss = block(f1, f2)
    assert fused.dtype == torch.bfloat16
    assert loss.dtype == torch.float32 and loss.item() > 0


def test_tokens_to_map_is_the_row_major_grid_and_round_trips() -> None:
    x = torch.randn(2, 3 * 5, 4)
    grid = tokens_to_map(x, 3, 5)
    assert grid.shape == (2, 4, 3, 5)
    assert torch.equal(grid[1, 2, 1, 3], x[1, 1 * 5 + 3, 2])
    assert torch.equal(map_to_tokens(grid), x)
    assert map_to_tokens(grid).data_ptr() == x.data_ptr()  # views both ways, no copy


def _scan_lengths(block: SynergisticFusionBlock) -> list[int]:
    """Records the sequence length the block's scan layers receive."""
    lengths: list[int] = []
    block.scan.register_forward_hook(lambda _module, inputs, _output: lengths.append(inputs[0].shape[1]))
    return lengths


@pytest.mark.parametrize("scan_layers", [1, 2])
def test_scan_pool_pools_the_scan_and_keeps_full_resolution(scan_layers: int) -> None:
    torch.manual_seed(5)
    config = FusionConfig(dim=8, d_state=4, scan_layers=scan_layers, scan_pool=4)
    block = SynergisticFusionBlock(6, config)
    lengths = _scan_lengths(block)
    f1 = torch.randn(2, 6, 9, 7, requires_grad=True)
    f2 = torch.randn(2, 6, 9, 7, requires_grad=True)
    fused, loss = block(f1, f2)
    assert fused.shape == (2, 6, 9, 7)
    assert lengths == [2 * 3 * 2]  # 4×4 pooling: ⌈9/4⌉·⌈7/4⌉ = 6 ≤ 12 tokens per stream, interleaved
    (fused.square().mean() + loss).backward()
    assert f1.grad is not None and f1.grad.abs().sum() > 0
    assert f2.grad is not None and f2.grad.abs().sum() > 0
    for name, parameter in block.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_scan_pool_adds_no_parameters_and_changes_the_output() -> None:
    torch.manual_seed(6)
    full = SynergisticFusionBlock(6, FusionConfig(dim=8, d_state=4)).eval()
    pooled = SynergisticFusionBlock(6, FusionConfig(dim=8, d_state=4, scan_pool=2)).eval()
    pooled.load_state_dict(full.state_dict())  # pooling adds no parameters
    lengths = _scan_lengths(full)
    f1, f2 = torch.randn(1, 6, 6, 5), torch.randn(1, 6, 6, 5)
    with torch.no_grad():
        assert not torch.allclose(pooled(f1, f2)[0], full(f1, f2)[0], atol=1e-4)
    assert lengths == [2 * 6 * 5]


def test_pooled_scan_adds_the_upsampled_residual_to_the_aligned_tokens() -> None:
    torch.manual_seed(7)
    block = SynergisticFusionBlock(4, FusionConfig(dim=8, d_state=4, scan_pool=2)).eval()
    x_p, x_g = torch.randn(1, 16, 8), torch.randn(1, 16, 8)
    with torch.no_grad():
        mixed_p, mixed_g = block.mix(x_p, x_g, 4, 4)
        coarse = [x.reshape(1, 2, 2, 2, 2, 8).mean((2, 4)).reshape(1, 4, 8) for x in (x_p, x_g)]
        tokens = interleave(*coarse)
        residual_p, residual_g = deinterleave(block.scan(tokens) - tokens)
    # A 2×2 grid upsampled ×2 bilinearly: every fine token equals its nearest coarse one at the corners.
    for mixed, x, residual in ((mixed_p, x_p, residual_p), (mixed_g, x_g, residual_g)):
        corners = (mixed - x)[0, [0, 3, 12, 15]]
        assert torch.allclose(corners, residual[0], atol=1e-5)
