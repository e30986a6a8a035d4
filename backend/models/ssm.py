"""Selective state-space (Mamba-style) token mixers: a causal one and a bidirectional layer built from two.

Both run over a token sequence B×L×d in time and memory linear in L; the recurrence itself is
:func:`~geofuse.backend.models.selective_scan.selective_scan_fn`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .selective_scan import selective_scan_each_order, selective_scan_fn


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
        return scan_directions((self,), u.unsqueeze(1)).squeeze(1)


def scan_directions(layers: Sequence[SelectiveSSM], v: Tensor) -> Tensor:
    """Run k same-shaped causal mixers, mixer i on sequence i, as one batch of channel-major ops.

    Every projection is computed in the B×channels×L layout that the depthwise convolution and the
    selective scan take, so nothing is transposed or copied between them: per-mixer weights are stacked
    into batched matrix products (x_proj gives Δ, B, C as B×k×(R+2N)×L), the k mixers' channels are
    concatenated into one scan with k groups of B_t, C_t (group i serves mixer i's channels), and the k
    outputs come back token-major from out_proj's product. One scan call instead of k halves the scan's
    per-step overhead at the short sequences of the low-resolution stages.

    Args:
        layers: k mixers with equal sizes (their own parameters).
        v: B×k×L×d, sequence i for mixer i.

    Returns:
        B×k×L×d, mixer i's output on sequence i.
    """
    batch, k, length, _ = v.shape
    first = layers[0]
    inner, rank, state = first.D.shape[0], first.dt_rank, first.d_state
    v_t = v.transpose(-1, -2)  # B×k×d×L, a view: the products read it transposed
    w_in = torch.stack([layer.in_proj.weight for layer in layers])  # k×2E×d
    x = torch.matmul(w_in[:, :inner], v_t)  # B×k×E×L
    z = torch.matmul(w_in[:, inner:], v_t)
    conv_weight = torch.cat([layer.conv1d.weight for layer in layers])
    conv_bias = torch.cat([layer.conv1d.bias for layer in layers])
    x = F.conv1d(
        x.reshape(batch, k * inner, length),
        conv_weight,
        conv_bias,
        padding=conv_weight.shape[-1] - 1,
        groups=k * inner,
    )
    x = F.silu(x[..., :length])  # causal: output t sees inputs t − d_conv + 1 … t
    dbc = torch.matmul(
        torch.stack([layer.x_proj.weight for layer in layers]), x.reshape(batch, k, inner, length)
    )
    delta = torch.matmul(torch.stack([layer.dt_proj.weight for layer in layers]), dbc[:, :, :rank])
    y = selective_scan_fn(
        x.reshape(batch, k * inner, length),
        delta.reshape(batch, k * inner, length),
        -torch.exp(torch.cat([layer.A_log for layer in layers]).float()),
        dbc[:, :, rank : rank + state],  # B×k×N×L: group i for mixer i
        dbc[:, :, rank + state :],
        torch.cat([layer.D for layer in layers]).float(),
        z=z.reshape(batch, k * inner, length),
        delta_bias=torch.cat([layer.dt_proj.bias for layer in layers]).float(),
        delta_softplus=True,
    )
    w_out = torch.stack([layer.out_proj.weight for layer in layers])  # k×d×E
    return torch.matmul(y.view(batch, k, inner, length).transpose(-1, -2), w_out.transpose(-1, -2))


class BidirectionalSSM(nn.Module):
    """One bidirectional selective-scan layer: a forward and a backward scan, summed, with a residual.

    out = u + fwd(LN(u)) + flip(bwd(flip(LN(u)))), pre-norm as in Mamba/Vim blocks. The two directions have
    their own parameters; every output token sees the whole sequence, at cost linear in L.

    Nothing is flipped: both directions work on token-major buffers in token order, their channels side
    by side (B×L×2×E). The backward direction's causal convolution along the reversed sequence is an
    anti-causal one along the tokens (its kernel reversed), both run as one depthwise convolution; its
    output is read through a view whose backward half is shifted by d_conv − 1 tokens. One
    :func:`~.selective_scan.selective_scan_each_order` call scans the forward half in token order and the
    backward half in reverse, with the D skip and the silu(z) gate applied in token order, and one matrix
    product applies both out_proj and adds them and the residual.

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
        batch, length, dim = u.shape
        layers = (self.forward_scan, self.backward_scan)
        inner, rank, state = layers[0].D.shape[0], layers[0].dt_rank, layers[0].d_state
        normed = self.norm(u)
        w_in = [layer.in_proj.weight for layer in layers]
        x = F.linear(normed, torch.cat([w[:inner] for w in w_in]))  # B×L×2E, forward then backward
        z = F.linear(normed, torch.cat([w[inner:] for w in w_in])).view(batch, length, 2, inner)
        # One depthwise convolution over the tokens, padded d_conv − 1 on both sides: output t + d_conv − 1
        # of the forward channels sees tokens t − d_conv + 1 … t (causal), output t + d_conv − 1 of the
        # backward channels, whose kernel is reversed, sees tokens t … t + d_conv − 1 (causal along the
        # reversed sequence). A 1×L map in channels-last memory: input and output stay token-major.
        taps = layers[0].conv1d.weight.shape[-1]
        conv = F.conv2d(
            x.transpose(1, 2).unsqueeze(2),
            torch.cat((layers[0].conv1d.weight, layers[1].conv1d.weight.flip(-1))).unsqueeze(2),
            torch.cat([layer.conv1d.bias for layer in layers]),
            padding=(0, taps - 1),
            groups=2 * inner,
        )
        conv = F.silu(conv.squeeze(2).transpose(1, 2))  # B×(L + d_conv − 1)×2E
        # Δ, B_t, C_t are pointwise: computed on all L + d_conv − 1 rows for both directions at once (block
        # diagonal weights), then read through the same shifted view as the convolution's output.
        x_proj = [layer.x_proj.weight for layer in layers]
        low_rank = F.linear(conv, torch.block_diag(*(w[:rank] for w in x_proj)))
        delta = F.linear(low_rank, torch.block_diag(*(layer.dt_proj.weight for layer in layers)))
        b_t = F.linear(conv, torch.block_diag(*(w[rank : rank + state] for w in x_proj)))
        c_t = F.linear(conv, torch.block_diag(*(w[rank + state :] for w in x_proj)))
        forward_order = torch.arange(length, device=u.device)
        y = selective_scan_each_order(
            _shifted(conv, length, taps - 1),
            _shifted(delta, length, taps - 1),
            -torch.exp(torch.cat([layer.A_log for layer in layers]).float()),
            _shifted(b_t, length, taps - 1),
            _shifted(c_t, length, taps - 1),
            torch.stack((forward_order, forward_order.flip(0))),
            D=torch.cat([layer.D for layer in layers]).float(),
            z=z,
            delta_bias=torch.cat([layer.dt_proj.bias for layer in layers]).float(),
            delta_softplus=True,
        )
        w_out = torch.cat([layer.out_proj.weight for layer in layers], 1)  # d×2E: the two out_proj, summed
        return torch.addmm(u.reshape(-1, dim), y.view(-1, 2 * inner), w_out.t()).view(batch, length, dim)


def _shifted(m: Tensor, length: int, shift: int) -> Tensor:
    """B×(L + shift)×2W, forward half then backward half, as the view B×L×2×W of rows t and t + shift."""
    s_batch, s_token, s_channel = m.stride()
    width = m.shape[-1] // 2
    return m.as_strided(
        (m.shape[0], length, 2, width),
        (s_batch, s_token, shift * s_token + width * s_channel, s_channel),
        m.storage_offset(),
    )
