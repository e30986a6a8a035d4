"""Which torch device a run uses: the one reading of ``--device`` for every command and the worker.

``segment``, ``evaluate``, ``train``, ``finetune``, ``ablate`` and the QGIS worker all take the same
spellings (those :func:`geofuse.backend.validation.device` accepts) and refuse the same way: a
:class:`DeviceError`, which the command line shows as one line (no traceback).
"""

from __future__ import annotations

import torch

from .errors import GeoFuseError

DEVICE_CHOICES = "'auto', 'cpu', 'cuda' or 'cuda:N'"
"""The spellings of a device, as the errors and the ``--device`` help name them."""


class DeviceError(GeoFuseError):
    """A device that is misspelled or not on this machine."""


def resolve_device(name: str, local_rank: int | None = None) -> torch.device:
    """The torch device for ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Args:
        name: The device as the user wrote it.
        local_rank: Under ``torchrun``, this process's GPU: ``auto`` and ``cuda`` then mean
            ``cuda:LOCAL_RANK``, so each process of a distributed run takes its own GPU.

    Raises:
        DeviceError: For another spelling, CUDA asked for where PyTorch sees none, or a GPU index past
            the GPUs there are.
    """
    cuda = "cuda" if local_rank is None else f"cuda:{local_rank}"
    if name == "auto":
        return torch.device(cuda if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} asked for, but PyTorch sees no CUDA GPU here")
        device = torch.device(cuda if name == "cuda" else name)
        if (device.index or 0) >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r}: only {torch.cuda.device_count()} CUDA GPU(s) here")
        return device
    raise DeviceError(f"device must be {DEVICE_CHOICES}, got {name!r}")
