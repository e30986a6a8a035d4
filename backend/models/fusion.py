"""Cross-modal fusion blocks: the Synergistic Fusion Block (SFB) and the concat baseline.

SFB (paper §3; DESIGN.md § SFB restates the garbled formulas):

1. a shared 1×1 projection maps F1, F2 (B×C×H×W) to d channels, flattened to X_p, X_g ∈ ℝ^{B×N×d};
2. hard OT aligns them: X'_p, X'_g (:mod:`.optimal_transport`);
3. in training, L_align = MMD²(X'_p, X_g) + MMD²(X'_g, X_p) (:mod:`.mmd`), on a random subsample;
4. X'_p and X'_g are interleaved to length 2N, mixed by 0–2 bidirectional SSM layers and split back (with
   0 layers interleaving is the identity and is skipped); the two streams are concatenated and one 1×1
   convolution 2d → C (merge and projection back in one, as two linear maps compose to one), BatchNorm
   and ReLU give F_fuse, the same head as the concat baseline's.

Per-stage choices, fixed by the configuration: each block has its OT mode (global or w×w windows), its
OT assignment (argmin or one-to-one) and its scan pooling k, whatever the size of the tile it is given;
:meth:`~.network.ModelConfig.fusion_config` derives them per stage from the model config (recorded in
the checkpoint's card). So a model computes the same function on a 256, 512 or 1024 tile.

Scan resolution: with ``scan_pool`` k > 1 the bidirectional scan runs on k×k average-pooled aligned tokens
and its output, a residual, is bilinearly upsampled and added to the full-resolution aligned tokens before
the merge. The scan's job is long-range context, which a coarser grid carries as well (a token of the
pooled grid summarises k² pixels, and one scan step spans k pixels); the full-resolution detail reaches the
merge through the aligned tokens themselves, and OT always runs at full resolution. The scan over the 2N
interleaved tokens is by far the SFB's largest cost on CPU (at 512×512 input the stage-1 sequence is
2·128² tokens), so the small width pools it (see ``network.WIDTHS``); the paper scans full sequences
(k = 1 everywhere, the ``paper`` preset). Pooling has no parameters: a checkpoint loads whatever k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .mmd import mmd2
from .optimal_transport import ASSIGNMENTS, align_tokens
from .ssm import BidirectionalSSM


@dataclass
class FusionConfig:
    """SFB settings; the paper's variants are a0 (OT), a1 (OT+MMD), a2 (+1 scan layer), a3 (+2).

    Attributes:
        dim: projected token width d (narrow on purpose, to keep the fusion cheap).
        use_ot: align tokens by hard OT; without it X'_p = X_p and X'_g = X_g.
        use_mmd: add the MMD alignment loss in training.
        scan_layers: number of bidirectional SSM layers (0, 1 or 2).
        ot_mode: ``"global"`` or ``"window"`` (w×w windows).
        ot_assignment: ``"argmin"`` (each token to its nearest, many-to-one) or ``"one-to-one"`` (an exact
            permutation; every position receives one token). See :mod:`.optimal_transport`.
        ot_window: window side w of window OT.
        ot_chunk: rows of the cost matrix per block in global argmin OT.
        mmd_sigma: Gaussian kernel bandwidth σ.
        mmd_sigma_per_channel: use σ·√d as the bandwidth, i.e. σ is per channel. With d = 64 and O(1)
            features ‖x − y‖² ≈ 2d, so a bare σ = 1 makes every off-diagonal kernel value ≈ e⁻⁶⁴ and the
            loss a constant 2/N with no gradient. Off = the paper's formula with σ as given (its kernel is
            0.05–0.28 on the trained model's features, against 0.92–0.96 with σ·√d).
        mmd_max_tokens: MMD is computed on at most this many randomly chosen token positions.
        d_state: SSM state size N.
        ssm_expand: inner width of each scan = ssm_expand · d. 1, not Mamba's 2: the scan over 2N tokens
            dominates the block's cost, and 2 doubles it.
        scan_pool: side k of the average pooling before the scan (1: full sequence, as in the paper); the
            scan's residual is upsampled back (module docstring).
    """

    dim: int = 64
    use_ot: bool = True
    use_mmd: bool = True
    scan_layers: int = 1
    ot_mode: str = "global"
    ot_assignment: str = "argmin"
    ot_window: int = 8
    ot_chunk: int = 1024
    mmd_sigma: float = 1.0
    mmd_sigma_per_channel: bool = True
    mmd_max_tokens: int = 1024
    d_state: int = 16
    ssm_expand: int = 1
    scan_pool: int = 1


def interleave(x_p: Tensor, x_g: Tensor) -> Tensor:
    """X'_p¹, X'_g¹, X'_p², X'_g², …: two B×N×d sequences → one B×2N×d sequence."""
    return torch.stack((x_p, x_g), dim=2).flatten(1, 2)


def deinterleave(x: Tensor) -> tuple[Tensor, Tensor]:
    """Inverse of :func:`interleave`: B×2N×d → (even tokens, odd tokens), each B×N×d."""
    batch, length, dim = x.shape
    x_p, x_g = x.reshape(batch, length // 2, 2, dim).unbind(dim=2)
    return x_p, x_g


def tokens_to_map(x: Tensor, height: int, width: int) -> Tensor:
    """B×N×d tokens (row-major over the H×W grid) as a B×d×H×W map; a channels-last view, no copy."""
    return x.unflatten(1, (height, width)).permute(0, 3, 1, 2)


def map_to_tokens(x: Tensor) -> Tensor:
    """Inverse of :func:`tokens_to_map`: B×d×H×W → B×N×d; a view when the map is channels-last."""
    return x.permute(0, 2, 3, 1).flatten(1, 2)


class SynergisticFusionBlock(nn.Module):
    """Synergistic Fusion Block: OT alignment, MMD loss, bidirectional linear fusion.

    Args:
        channels: C of both input maps and of the output.
        config: the block's settings.

    Raises:
        ValueError: for an unknown ``ot_mode`` or ``ot_assignment``, a negative ``scan_layers`` or a
            ``scan_pool`` or ``ot_window`` < 1.
    """

    def __init__(self, channels: int, config: FusionConfig) -> None:
        super().__init__()
        self.check(config)
        self.config = config
        self.proj_in = nn.Conv2d(channels, config.dim, kernel_size=1)
        self.scan = nn.Sequential(
            *(
                BidirectionalSSM(config.dim, d_state=config.d_state, expand=config.ssm_expand)
                for _ in range(config.scan_layers)
            )
        )
        self.proj_out = nn.Sequential(
            nn.Conv2d(2 * config.dim, channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )

    @staticmethod
    def check(config: FusionConfig) -> None:
        """Raise ValueError for settings no block can run (see the class's Raises)."""
        if config.ot_mode not in ("global", "window"):
            raise ValueError(f"unknown ot_mode {config.ot_mode!r}; expected 'global', 'window' or 'auto'")
        if config.ot_assignment not in ASSIGNMENTS:
            raise ValueError(f"unknown ot_assignment {config.ot_assignment!r}; expected one of {ASSIGNMENTS}")
        if config.scan_layers < 0:
            raise ValueError(f"scan_layers must be >= 0, got {config.scan_layers}")
        for name in ("scan_pool", "ot_window"):
            value = getattr(config, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    def mix(self, x_p: Tensor, x_g: Tensor, height: int, width: int) -> tuple[Tensor, Tensor]:
        """Bidirectional linear fusion: interleave, scan, split; on k×k pooled tokens when ``scan_pool`` > 1.

        Args:
            x_p: X'_p, B×N×d with N = H·W.
            x_g: X'_g, B×N×d.
            height: H.
            width: W.

        Returns:
            The mixed streams, each B×N×d.
        """
        k = self.config.scan_pool
        if k == 1:
            return deinterleave(self.scan(interleave(x_p, x_g)))
        size = (math.ceil(height / k), math.ceil(width / k))
        coarse = [
            map_to_tokens(F.adaptive_avg_pool2d(tokens_to_map(x, height, width), size)) for x in (x_p, x_g)
        ]
        tokens = interleave(*coarse)
        # Contiguous (coarse, so cheap): the upsampling then writes a channels-last map, a view as tokens.
        residuals = [r.contiguous() for r in deinterleave(self.scan(tokens) - tokens)]
        return tuple(
            x + map_to_tokens(F.interpolate(tokens_to_map(r, *size), (height, width), mode="bilinear"))
            for x, r in zip((x_p, x_g), residuals, strict=True)
        )

    def alignment_loss(self, x_p: Tensor, x_g: Tensor, x_p_aligned: Tensor, x_g_aligned: Tensor) -> Tensor:
        """L_align = MMD²(X'_p, X_g) + MMD²(X'_g, X_p), batch-averaged, on ≤ mmd_max_tokens positions.

        The same random positions (global RNG) are taken from all four token sets; the loss is computed in
        float32 whatever the autocast state.
        """
        tokens, dim = x_p.shape[1:]
        if tokens > self.config.mmd_max_tokens:
            keep = torch.randperm(tokens, device=x_p.device)[: self.config.mmd_max_tokens]
            x_p, x_g, x_p_aligned, x_g_aligned = (t[:, keep] for t in (x_p, x_g, x_p_aligned, x_g_aligned))
        sigma = self.config.mmd_sigma * (math.sqrt(dim) if self.config.mmd_sigma_per_channel else 1.0)
        x_p, x_g, x_p_aligned, x_g_aligned = (t.float() for t in (x_p, x_g, x_p_aligned, x_g_aligned))
        # ‖x − y‖² = ‖x‖² + ‖y‖² − 2⟨x, y⟩ cancels badly in half precision: keep autocast out.
        with torch.autocast(device_type=x_p.device.type, enabled=False):
            return (mmd2(x_p_aligned, x_g, sigma) + mmd2(x_g_aligned, x_p, sigma)).mean()

    def forward(self, f1: Tensor, f2: Tensor) -> tuple[Tensor, Tensor]:
        """Fuse two same-scale maps.

        Args:
            f1: F1, B×C×H×W (gives X_p).
            f2: F2, B×C×H×W (gives X_g).

        Returns:
            (F_fuse, L_align): B×C×H×W, and a scalar that is zero (and costs nothing) in eval mode or
            without MMD.
        """
        batch, channels, height, width = f1.shape
        # The 1×1 convolutions as products on token-major views: X_p, X_g come out B×N×d without a copy.
        weight_in = self.proj_in.weight.flatten(1)
        x_p = F.linear(f1.flatten(2).transpose(1, 2), weight_in, self.proj_in.bias)
        x_g = F.linear(f2.flatten(2).transpose(1, 2), weight_in, self.proj_in.bias)
        if self.config.use_ot:
            x_p_aligned, x_g_aligned = align_tokens(
                x_p,
                x_g,
                height,
                width,
                mode=self.config.ot_mode,
                chunk=self.config.ot_chunk,
                window=self.config.ot_window,
                assignment=self.config.ot_assignment,
            )
        else:
            x_p_aligned, x_g_aligned = x_p, x_g
        if self.training and self.config.use_mmd:
            loss = self.alignment_loss(x_p, x_g, x_p_aligned, x_g_aligned)
        else:
            loss = f1.new_zeros(())
        if len(self.scan) > 0:
            x_p_aligned, x_g_aligned = self.mix(x_p_aligned, x_g_aligned, height, width)
        merge, norm, activation = self.proj_out
        merged = torch.matmul(
            merge.weight.flatten(1), torch.cat((x_p_aligned, x_g_aligned), -1).transpose(1, 2)
        )
        if merge.bias is not None:  # the BatchNorm folded into it for inference (inference_setup)
            merged = merged + merge.bias[:, None]
        return activation(norm(merged.view(batch, channels, height, width))), loss


class ConcatFusion(nn.Module):
    """Baseline fusion: concat(F1, F2) → 1×1 conv → BatchNorm → ReLU; no alignment, zero loss.

    Args:
        channels: C of both input maps and of the output.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fuse = nn.Sequential(
            nn.Conv2d(2 * channels, channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, f1: Tensor, f2: Tensor) -> tuple[Tensor, Tensor]:
        """Fuse two same-scale maps.

        Args:
            f1: F1, B×C×H×W.
            f2: F2, B×C×H×W.

        Returns:
            (F_fuse B×C×H×W, a zero scalar loss).
        """
        return self.fuse(torch.cat((f1, f2), dim=1)), f1.new_zeros(())
