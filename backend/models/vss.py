"""Visual state-space encoder branch (branch 2): VMamba-like SS2D blocks, linear in the number of tokens.

SS2D scans a 2-D map as four 1-D token sequences (row-major, column-major and their reverses) and sums
the four results per pixel, so every output pixel sees every input pixel, at a cost linear in H·W. The
sequences are never built: the four orders are index maps over one channels-last buffer, and one
selective scan (`selective_scan_orders`) gathers its inputs through them and returns the sum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .selective_scan import selective_scan_orders


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a B×C×H×W map."""

    def forward(self, x: Tensor) -> Tensor:
        """Normalise each pixel's channel vector."""
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class SS2D(nn.Module):
    """2-D selective scan over K = 4 directions (VMamba's SS2D).

    x ↦ in_proj → (x, z); x → depthwise conv → SiLU → cross-scan into K sequences → selective scan with
    input-dependent Δ, B, C (one set of projections and one A, D per direction) → cross-merge (sum of the
    K directions in 2-D layout) → LayerNorm → · SiLU(z) → out_proj.

    Args:
        dim: Channels of the input and output tokens.
        d_state: SSM state size N (the columns of A).
        ssm_ratio: Inner width d_inner = ssm_ratio · dim.
        d_conv: Kernel of the depthwise convolution before the scan.
        dt_min: Smallest initial step Δ.
        dt_max: Largest initial step Δ.
    """

    num_directions = 4

    def __init__(
        self,
        dim: int,
        d_state: int = 4,
        ssm_ratio: float = 1.0,
        d_conv: int = 3,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
    ) -> None:
        super().__init__()
        k = self.num_directions
        d_inner = int(ssm_ratio * dim)
        self.d_inner, self.d_state = d_inner, d_state
        self.dt_rank = math.ceil(dim / 16)
        self.in_proj = nn.Linear(dim, 2 * d_inner, bias=False)
        self.conv = nn.Conv2d(d_inner, d_inner, d_conv, padding=d_conv // 2, groups=d_inner)
        bound = d_inner**-0.5
        self.x_proj_weight = nn.Parameter(
            torch.empty(k, self.dt_rank + 2 * d_state, d_inner).uniform_(-bound, bound)
        )
        dt_bound = self.dt_rank**-0.5
        self.dt_proj_weight = nn.Parameter(
            torch.empty(k, d_inner, self.dt_rank).uniform_(-dt_bound, dt_bound)
        )
        # Δ starts log-uniform in [dt_min, dt_max]; the bias holds softplus⁻¹(Δ), the scan applies softplus.
        dt = torch.exp(torch.rand(k, d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=1e-4)
        self.dt_proj_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        # S4D-real initialisation A = −(1, 2, …, N), stored as log so that A stays negative (a stable decay).
        a = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(k * d_inner, 1)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(k * d_inner))
        self.out_norm = nn.LayerNorm(d_inner)
        self.out_proj = nn.Linear(d_inner, dim, bias=False)

    def scan_directions(self, x: Tensor) -> Tensor:
        """Scan a B×d_inner×H×W map in each direction and return the four results separately.

        For inspection and tests (``forward`` sums the directions inside one scan call instead).

        Args:
            x: Map after the depthwise convolution, B×d_inner×H×W.

        Returns:
            B×K×d_inner×H×W, direction k = row-major, column-major, reversed row-major, reversed
            column-major. Output k at a pixel depends only on the pixels before it in order k.
        """
        batch, channels, height, width = x.shape
        tokens = x.permute(0, 2, 3, 1).reshape(batch, height * width, channels)
        delta, B, C = self.projections(tokens)
        A, orders = -torch.exp(self.A_log), scan_orders(height, width, x.device)
        outputs = []
        for k in range(self.num_directions):
            part, one = slice(k * channels, (k + 1) * channels), slice(k, k + 1)
            y = selective_scan_orders(
                tokens, delta[:, :, one], A[part], B[:, :, one], C[:, :, one], orders[one],
                D=self.D[part], delta_softplus=True,
            )  # fmt: skip
            outputs.append(y.transpose(1, 2).reshape(batch, channels, height, width))
        return torch.stack(outputs, dim=1)

    def projections(self, tokens: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Δ (before softplus, bias included), B_t and C_t of every direction at every token.

        The projections are pointwise, so they are computed once per token for all K directions, on the
        token-major buffer, rather than once per direction on reordered copies of it. Δ's low-rank
        product runs as one matrix product with the K dt_proj weights on a block diagonal, its bias added
        by the same call.

        Args:
            tokens: B×L×d_inner, channels last.

        Returns:
            Δ B×L×K×d_inner; B_t and C_t B×L×K×N.
        """
        batch, length, channels = tokens.shape
        k, rank, state = self.num_directions, self.dt_rank, self.d_state
        weight = self.x_proj_weight
        low_rank = F.linear(tokens, weight[:, :rank].reshape(k * rank, channels))
        delta = F.linear(low_rank, torch.block_diag(*self.dt_proj_weight), self.dt_proj_bias.flatten())
        b_t = F.linear(tokens, weight[:, rank : rank + state].reshape(k * state, channels))
        c_t = F.linear(tokens, weight[:, rank + state :].reshape(k * state, channels))
        return (
            delta.view(batch, length, k, channels),
            b_t.view(batch, length, k, state),
            c_t.view(batch, length, k, state),
        )

    def forward(self, x: Tensor) -> Tensor:
        """Mix the tokens of a channels-last map B×H×W×dim globally; returns the same shape.

        The map stays channels-last throughout: the depthwise convolution reads and writes it in that
        memory format, the four scan orders are index maps over it (`scan_orders`), and one scan call
        returns the sum of the four directions, D skip included, in token order.
        """
        batch, height, width, _ = x.shape
        w_x, w_z = self.in_proj.weight.chunk(2)
        u = F.silu(self.conv(F.linear(x, w_x).permute(0, 3, 1, 2)))
        tokens = u.permute(0, 2, 3, 1).reshape(batch, height * width, self.d_inner)
        delta, b_t, c_t = self.projections(tokens)
        y = selective_scan_orders(
            tokens,
            delta,
            -torch.exp(self.A_log),
            b_t,
            c_t,
            scan_orders(height, width, x.device),
            D=self.D,
            delta_softplus=True,
        )
        gate = F.silu(F.linear(x, w_z))
        return self.out_proj(self.out_norm(y.view(batch, height, width, -1)) * gate)


def scan_orders(height: int, width: int, device: torch.device | str = "cpu") -> Tensor:
    """SS2D's four token orders over an H×W map: row-major, column-major and their reverses, 4×(H·W).

    Row ``k`` lists the row-major token indices in the order direction k visits them.
    """
    row_major = torch.arange(height * width, device=device)
    col_major = row_major.view(height, width).t().flatten()
    return torch.stack([row_major, col_major, row_major.flip(0), col_major.flip(0)])


class VSSBlock(nn.Module):
    """Pre-norm residual block: x + SS2D(LN(x)), then x + MLP(LN(x)) when mlp_ratio > 0 (channels-last).

    Args:
        dim: Token channels.
        d_state: SSM state size N.
        ssm_ratio: SS2D inner width ratio.
        mlp_ratio: Hidden width of the MLP relative to dim; 0 drops the MLP.
    """

    def __init__(self, dim: int, d_state: int = 4, ssm_ratio: float = 1.0, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ss2d = SS2D(dim, d_state=d_state, ssm_ratio=ssm_ratio)
        self.mlp: nn.Module | None = None
        if mlp_ratio > 0:
            hidden = int(dim * mlp_ratio)
            self.mlp = nn.Sequential(
                nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)
            )

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block to a B×H×W×dim map."""
        x = x + self.ss2d(self.norm(x))
        if self.mlp is not None:
            x = x + self.mlp(x)
        return x


class VSSStage(nn.Module):
    """Optional stride-2 downsampling (2×2 patch merging as a conv + LayerNorm), then VSS blocks.

    Takes and returns B×C×H×W maps (the blocks run channels-last inside), so the network can fuse between
    stages without caring which branch is which.

    Args:
        in_channels: Channels of the input map.
        out_channels: Channels of the output map.
        depth: Number of VSS blocks.
        downsample: Halve the resolution first.
        d_state: SSM state size N.
        ssm_ratio: SS2D inner width ratio.
        mlp_ratio: MLP hidden width ratio.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth: int,
        downsample: bool,
        d_state: int,
        ssm_ratio: float,
        mlp_ratio: float,
    ) -> None:
        super().__init__()
        self.downsample: nn.Module = nn.Identity()
        if downsample:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 2, stride=2), LayerNorm2d(out_channels)
            )
        self.blocks = nn.Sequential(
            *(VSSBlock(out_channels, d_state, ssm_ratio, mlp_ratio) for _ in range(depth))
        )

    def forward(self, x: Tensor) -> Tensor:
        """Downsample, then run the blocks channels-last."""
        x = self.downsample(x)
        return self.blocks(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class VSSEncoder(nn.Module):
    """VMamba-like encoder exposing its stem and stages, so the network can fuse between stages.

    A 4×4 stride-4 patch embedding (+ LayerNorm) brings the input to stride 4; stage 0 keeps it and
    stages 1–3 open with a stride-2 downsampling, giving strides 4, 8, 16 and 32.

    Args:
        in_channels: Channels of the input raster.
        channels: Output channels of the four stages.
        depths: VSS blocks per stage.
        d_state: SSM state size N.
        ssm_ratio: SS2D inner width ratio.
        mlp_ratio: MLP hidden width ratio (0: no MLP).
    """

    strides: tuple[int, ...] = (4, 8, 16, 32)

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        depths: Sequence[int],
        d_state: int = 4,
        ssm_ratio: float = 1.0,
        mlp_ratio: float = 2.0,
    ) -> None:
        super().__init__()
        if len(channels) != 4 or len(depths) != 4:
            raise ValueError(f"VSSEncoder needs 4 stages, got channels={channels}, depths={depths}")
        self.channels = tuple(channels)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels[0], 4, stride=4), LayerNorm2d(channels[0]))
        previous = channels[0]
        stages = []
        for index, (width, depth) in enumerate(zip(channels, depths, strict=True)):
            stages.append(VSSStage(previous, width, depth, index > 0, d_state, ssm_ratio, mlp_ratio))
            previous = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Run the branch alone (no fusion) and return the four stage outputs, finest first."""
        x = self.stem(x)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features
