"""Selective state-space (Mamba-style) token mixers: a causal one and a bidirectional layer built from two.

Both run over a token sequence B×L×d in time and memory linear in L; the recurrence itself is
:func:`~geofuse.backend.models.selective_scan.selective_scan_fn`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .selective_scan import selective_scan_fn


class SelectiveSSM(nn.Module):
    """Causal selective-scan mixer (the Mamba block's mixer).

    x, z = in_proj(u); x = silu(causal depthwise conv1d(x)); (Δ, B, C) = x_proj(x) with Δ from a low-rank
    dt_proj; h_t = exp(Δ_t A) h_{t−1} + Δ_t B_t x_t, y_t = C_t h_t + D x_t, gated by silu(z); out_proj(y).
    A = −exp(A_log) starts S4D-real (A_n = −n) and Δ's bias starts so that softplus gives a step drawn
    log-uniformly from [dt_min, dt_max], as in Mamba. The output at t depends only on inputs ≤ t.

    Args:
        dim: token width d.
        d_state: state size N per channel.
        d_conv: kernel size of the causal depthwise convolution.
        expand: inner width = expand · d.
        dt_rank: rank of the Δ projection; ``None`` means ⌈d / 16⌉.
        dt_min: smallest initial step Δ.
        dt_max: largest initial step Δ.
        dt_init_floor: lower clamp on the initial Δ.
    """

    def __init__(
        self,
        dim: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | None = None,
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 1e-4,
    ) -> None:
        super().__init__()
        inner = expand * dim
        self.d_state = d_state
        self.dt_rank = dt_rank if dt_rank is not None else math.ceil(dim / 16)
        self.in_proj = nn.Linear(dim, 2 * inner, bias=False)
        self.conv1d = nn.Conv1d(inner, inner, d_conv, groups=inner, padding=d_conv - 1)
        self.x_proj = nn.Linear(inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, inner)
        s4d_real = torch.arange(1, d_state + 1, dtype=torch.float32).repeat(inner, 1)
        self.A_log = nn.Parameter(torch.log(s4d_real))
        self.D = nn.Parameter(torch.ones(inner))
        self.out_proj = nn.Linear(inner, dim, bias=False)
        self._init_dt(dt_min, dt_max, dt_init_floor)

    @torch.no_grad()
    def _init_dt(self, dt_min: float, dt_max: float, dt_init_floor: float) -> None:
        """Mamba's Δ initialisation: small uniform weights, bias = softplus⁻¹(log-uniform step)."""
        std = self.dt_rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -std, std)
        log_min, log_max = math.log(dt_min), math.log(dt_max)
        log_dt = torch.rand(self.dt_proj.out_features) * (log_max - log_min) + log_min
        dt = torch.exp(log_dt).clamp(min=dt_init_floor)
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))

    def forward(self, u: Tensor) -> Tensor:
        """Mix tokens causally.

        Args:
            u: B×L×d.

        Returns:
            B×L×d.
        """
        length = u.shape[1]
        x, z = self.in_proj(u).transpose(1, 2).chunk(2, dim=1)  # B×E×L each
        x = F.silu(self.conv1d(x)[..., :length])
        delta, B, C = self.x_proj(x.transpose(1, 2)).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
        delta = (delta @ self.dt_proj.weight.T).transpose(1, 2)  # B×E×L; bias goes in as delta_bias
        y = selective_scan_fn(
            x,
            delta,
            -torch.exp(self.A_log.float()),
            B.transpose(1, 2).contiguous(),
            C.transpose(1, 2).contiguous(),
            self.D.float(),
            z=z,
            delta_bias=self.dt_proj.bias.float(),
            delta_softplus=True,
        )
        return self.out_proj(y.transpose(1, 2))


class BidirectionalSSM(nn.Module):
    """One bidirectional selective-scan layer: a forward and a backward scan, summed, with a residual.

    out = u + fwd(LN(u)) + flip(bwd(flip(LN(u)))), pre-norm as in Mamba/Vim blocks. The two directions have
    their own parameters; every output token sees the whole sequence, at cost linear in L.

    Args:
        dim: token width d.
        d_state: state size N per channel.
        expand: inner width of each scan = expand · d.
    """

    def __init__(self, dim: int, d_state: int = 16, expand: int = 2) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.forward_scan = SelectiveSSM(dim, d_state=d_state, expand=expand)
        self.backward_scan = SelectiveSSM(dim, d_state=d_state, expand=expand)

    def forward(self, u: Tensor) -> Tensor:
        """Mix tokens in both directions.

        Args:
            u: B×L×d.

        Returns:
            B×L×d.
        """
        normed = self.norm(u)
        backward = self.backward_scan(normed.flip(1)).flip(1)
        return u + self.forward_scan(normed) + backward
