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
