"""A training process's place in a torchrun run, and the few collectives that keep the ranks in step.

One process trains on its own, or N processes under ``torchrun --nproc_per_node=N`` train one model with
DistributedDataParallel: each rank reads its own share of an epoch's random crops (:class:`RankSampler`)
and all ranks stop at the same step (:func:`any_rank`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from .models.network import GeoFuseNet


@dataclass
class Distributed:
    """This process's place in a (possibly one-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """True under torchrun with more than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and the progress bar."""
        return self.rank == 0

    @classmethod
    def from_environment(cls) -> Distributed:
        """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK (absent: a single process)."""
        return cls(
            rank=int(os.environ.get("RANK", 0)),
            world_size=int(os.environ.get("WORLD_SIZE", 1)),
            local_rank=int(os.environ.get("LOCAL_RANK", 0)),
        )

    def barrier(self) -> None:
        """Wait for every rank (nothing to wait for in a one-process run)."""
        if self.enabled:
            dist.barrier()


@contextmanager
def process_group(world: Distributed, device: torch.device) -> Iterator[None]:
    """Join torchrun's process group for the run (NCCL on GPUs, gloo on CPU) and tear it down at the end;
    a one-process run needs none."""
    if world.enabled and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        if world.enabled and dist.is_initialized():
            dist.destroy_process_group()


class RankSampler(Sampler[int]):
    """This rank's share of an epoch's crops (``rank, rank + world, ...``), from batch ``start_batch`` on.

    The crops themselves are random (:class:`~geofuse.backend.data.folder.RandomCropDataset`), so a strided
    split needs no shuffling, and skipping the batches already done lets a resumed run continue mid-epoch.
    """

    def __init__(
        self, length: int, rank: int, world_size: int, batch_size: int, start_batch: int = 0
    ) -> None:
        self.indices = list(range(rank, length, world_size))[start_batch * batch_size :]

    def __iter__(self) -> Iterator[int]:
        """Indices in order."""
        return iter(self.indices)

    def __len__(self) -> int:
        """Indices left this epoch."""
        return len(self.indices)


def rank_loader(
    dataset: Dataset,
    length: int,
    world: Distributed,
    batch_size: int,
    workers: int,
    start_batch: int = 0,
    *,
    drop_last: bool = False,
    pin_memory: bool = False,
) -> DataLoader:
    """Batches of this rank's share of ``dataset``'s first ``length`` items, from batch ``start_batch`` on.

    The loader's own generator keeps it off the global torch RNG (and fixes its workers' seeds).
    """
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=RankSampler(length, world.rank, world.world_size, batch_size, start_batch),
        num_workers=workers,
        drop_last=drop_last,
        generator=torch.Generator(),
        pin_memory=pin_memory,
    )


def any_rank(flag: bool, world: Distributed, device: torch.device) -> bool:
    """True if ``flag`` is true on any rank, so all ranks stop at the same step (a lone rank leaving
    would leave the others waiting in the next gradient all-reduce)."""
    if not world.enabled:
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def needs_unused_parameter_search(model: GeoFuseNet, device: torch.device) -> bool:
    """Whether some parameter gets no gradient (DDP must then search for unused ones every step).

    Probed on a copy, so the model's normalisation statistics are not touched.
    """
    model = copy.deepcopy(model)
    optical = torch.zeros(1, model.config.optical_channels, 64, 64, device=device)
    elevation = torch.zeros(1, model.config.elevation_channels, 64, 64, device=device)
    logits, align = model(optical, elevation)
    (logits.sum() + align).backward()
    return any(p.grad is None for p in model.parameters() if p.requires_grad)


def parallel(network: GeoFuseNet, world: Distributed, device: torch.device) -> nn.Module:
    """``network`` wrapped in DistributedDataParallel under torchrun, else ``network`` itself."""
    if not world.enabled:
        return network
    return nn.parallel.DistributedDataParallel(
        network,
        device_ids=[device.index] if device.type == "cuda" else None,
        find_unused_parameters=needs_unused_parameter_search(network, device),
    )
