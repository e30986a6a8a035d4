"""Selective scan with mamba-ssm's semantics (placeholder sequential version, being replaced)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def selective_scan_fn(
    u: Tensor,
    delta: Tensor,
    A: Tensor,
    B: Tensor,
    C: Tensor,
    D: Tensor | None = None,
    z: Tensor | None = None,
    delta_bias: Tensor | None = None,
    delta_softplus: bool = False,
    return_last_state: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t,  y_t = C_t h_t (+ D u) (· silu(z))."""
    dtype_in = u.dtype
    u, delta = u.float(), delta.float()
    if delta_bias is not None:
        delta = delta + delta_bias[..., None].float()
    if delta_softplus:
        delta = F.softplus(delta)
    batch, dim, length = u.shape
    if B.dim() == 4:
        B = B.float().repeat_interleave(dim // B.shape[1], dim=1)  # b d n l
        C = C.float().repeat_interleave(dim // C.shape[1], dim=1)
    else:
        B = B.float().unsqueeze(1).expand(batch, dim, *B.shape[1:])
        C = C.float().unsqueeze(1).expand(batch, dim, *C.shape[1:])
    dA = torch.exp(delta.unsqueeze(2) * A.float()[None, :, :, None])  # b d n l
    dBu = delta.unsqueeze(2) * B * u.unsqueeze(2)
    h = u.new_zeros(batch, dim, A.shape[1])
    ys = []
    for dA_t, dBu_t, C_t in zip(dA.unbind(-1), dBu.unbind(-1), C.unbind(-1), strict=True):
        h = dA_t * h + dBu_t
        ys.append((h * C_t).sum(-1))
    y = torch.stack(ys, dim=-1)
    if D is not None:
        y = y + u * D.float()[:, None]
    if z is not None:
        y = y * F.silu(z.float())
    y = y.to(dtype_in)
    return (y, h) if return_last_state else y
