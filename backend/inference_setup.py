"""Getting a network and torch ready for inference: BatchNorm folded, channels-last, every core in use.

Segmentation runs the same network thousands of times on one device, so what can be done once is done
once here, by :func:`prepare_for_inference`, called where a checkpoint is loaded for inference
(``LoadedModel.load``):

- **BatchNorm folded into the convolution before it.** In eval mode a BatchNorm is an affine map per
  channel, so ``conv → BN`` equals one convolution with rescaled weights and a bias; the network then
  runs one pass fewer over every normalised map. Outputs agree to fp32 rounding.
- **Channels-last memory format** on CPU: the state-space branch works on B×H×W×C tokens, and with the
  maps stored that way its permutes are free and oneDNN's convolutions read them directly.
- **Threads**: torch's intra-op pool is set to every core this process may run on (``os.sched_getaffinity``,
  which honours container and ``taskset`` limits), unless ``OMP_NUM_THREADS`` or ``GEOFUSE_THREADS`` says
  otherwise.

``GEOFUSE_FAST_INFERENCE=0`` turns the folding and the memory format off (the network runs as trained),
for comparisons and as an escape hatch. ``torch.compile`` is not used: compiling the selective scan's
recurrence as fused blocks (``bench/bench_scan_compile.py``) was measured no faster than the eager scan on
this project's CPU (0.8-1.0×: most of a fused block's time is the decays' exp2, which both pay) and costs
tens of seconds of compilation per layer shape in every fresh worker process.
"""

from __future__ import annotations

import copy
import os

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

SWITCH = "GEOFUSE_FAST_INFERENCE"
"""Environment variable: ``0`` leaves the network as trained (no folding, default memory format)."""

THREADS = "GEOFUSE_THREADS"
"""Environment variable: torch's intra-op threads for inference (default: every usable core)."""


def prepare_for_inference(network: nn.Module) -> nn.Module:
    """An eval-mode copy of ``network`` with BatchNorm folded and, on CPU, channels-last weights.

    The copy leaves ``network`` (and its state dict) untouched. Callers keep calling it as before, with
    inputs in any memory format. Anything that is not an ``nn.Module`` is returned as it is.

    Args:
        network: A trained network, on the device it will run on (its parameters' device decides the
            memory format and whether the CPU threads are set).

    Returns:
        The network to run inference with.
    """
    if not isinstance(network, nn.Module):
        return network
    device = next(network.parameters(), torch.empty(0)).device
    if device.type == "cpu":
        use_every_core()
    if os.environ.get(SWITCH, "1") == "0":
        return network.eval()
    prepared = fold_batch_norms(copy.deepcopy(network).eval())
    if device.type == "cpu":
        prepared = prepared.to(memory_format=torch.channels_last)
    return prepared


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every ``Conv2d → BatchNorm2d`` pair of a ``nn.Sequential`` into one ``Conv2d``, in place.

    The BatchNorm becomes ``nn.Identity``, so module names (and positions in the Sequential) stay as they
    were. Only eval mode may be folded: in training a BatchNorm normalises by the batch's statistics.

    Args:
        module: A network in eval mode.

    Returns:
        ``module``, folded.

    Raises:
        ValueError: If ``module`` is in training mode.
    """
    if module.training:
        raise ValueError("fold_batch_norms needs a network in eval mode (model.eval())")
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for index in range(len(sequential) - 1):
            conv, norm = sequential[index], sequential[index + 1]
            if isinstance(conv, nn.Conv2d) and type(norm) is nn.BatchNorm2d and norm.track_running_stats:
                sequential[index] = fuse_conv_bn_eval(conv, norm)
                sequential[index + 1] = nn.Identity()
    return module


def use_every_core() -> int:
    """Give torch's intra-op pool every core this process may use; returns the thread count set.

    ``GEOFUSE_THREADS`` (or ``OMP_NUM_THREADS``) set by the user wins. Inter-op threads are left alone:
    GeoFuse's forward pass is one chain of ops, and torch refuses to change them once work has started.
    """
    wanted = os.environ.get(THREADS) or os.environ.get("OMP_NUM_THREADS")
    cores = int(wanted) if wanted and wanted.isdigit() and int(wanted) > 0 else usable_cores()
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity where the OS has one (Linux), else all of them."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1
