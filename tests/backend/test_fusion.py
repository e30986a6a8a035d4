"""SFB and concat baseline: interleaving, shapes, alignment loss in train/eval, backward, OT modes."""

from __future__ import annotations

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


def test_auto_ot_mode_uses_windows_above_the_threshold() -> None:
    block = SynergisticFusionBlock(4, FusionConfig(ot_global_max_tokens=1024))
    assert block.ot_mode_for(128 * 128) == "window"
    assert block.ot_mode_for(64 * 64) == "window"
    assert block.ot_mode_for(32 * 32) == "global"
    assert block.ot_mode_for(16 * 16) == "global"
    assert SynergisticFusionBlock(4, FusionConfig(ot_mode="global")).ot_mode_for(10**6) == "global"
    with pytest.raises(ValueError, match="ot_mode"):
        SynergisticFusionBlock(4, FusionConfig(ot_mode="sinkhorn"))


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


def test_scan_pool_side() -> None:
    def side(cap: int | None, height: int, width: int) -> int:
        return SynergisticFusionBlock(4, FusionConfig(dim=8, scan_max_tokens=cap)).scan_pool_for(
            height, width
        )

    assert side(None, 128, 128) == 1
    assert side(128 * 128, 128, 128) == 1
    assert side(1024, 128, 128) == 4 and side(1024, 64, 64) == 2 and side(1024, 32, 32) == 1
    assert side(4, 5, 7) == 4  # ⌈5/2⌉·⌈7/2⌉ = 12 > 4, ⌈5/4⌉·⌈7/4⌉ = 4
    with pytest.raises(ValueError, match="scan_max_tokens"):
        SynergisticFusionBlock(4, FusionConfig(scan_max_tokens=0))


def _scan_lengths(block: SynergisticFusionBlock) -> list[int]:
    """Records the sequence length the block's scan layers receive."""
    lengths: list[int] = []
    block.scan.register_forward_hook(lambda _module, inputs, _output: lengths.append(inputs[0].shape[1]))
    return lengths


@pytest.mark.parametrize("scan_layers", [1, 2])
def test_scan_cap_pools_the_scan_and_keeps_full_resolution(scan_layers: int) -> None:
    torch.manual_seed(5)
    config = FusionConfig(dim=8, d_state=4, scan_layers=scan_layers, scan_max_tokens=12)
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


def test_scan_cap_at_or_above_the_token_count_changes_nothing() -> None:
    torch.manual_seed(6)
    uncapped = SynergisticFusionBlock(6, FusionConfig(dim=8, d_state=4)).eval()
    capped = SynergisticFusionBlock(6, FusionConfig(dim=8, d_state=4, scan_max_tokens=6 * 5)).eval()
    pooled = SynergisticFusionBlock(6, FusionConfig(dim=8, d_state=4, scan_max_tokens=6 * 5 - 1)).eval()
    capped.load_state_dict(uncapped.state_dict())  # the cap adds no parameters
    pooled.load_state_dict(uncapped.state_dict())
    lengths = _scan_lengths(capped)
    f1, f2 = torch.randn(1, 6, 6, 5), torch.randn(1, 6, 6, 5)
    with torch.no_grad():
        reference = uncapped(f1, f2)[0]
        assert torch.equal(capped(f1, f2)[0], reference)
        assert not torch.allclose(pooled(f1, f2)[0], reference, atol=1e-4)
    assert lengths == [2 * 6 * 5]


def test_pooled_scan_adds_the_upsampled_residual_to_the_aligned_tokens() -> None:
    torch.manual_seed(7)
    block = SynergisticFusionBlock(4, FusionConfig(dim=8, d_state=4, scan_max_tokens=4)).eval()
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
