"""``resolve_device``: the one reading of ``--device``, and the one clean line ``geofuse`` prints for it."""

from __future__ import annotations

import pytest
import torch

from geofuse.backend.device import DeviceError, resolve_device
from geofuse.backend.errors import GeoFuseError


def test_devices() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        resolve_device("gpu")
    with pytest.raises(DeviceError, match="device must be"):
        resolve_device("cuda:x")
    assert issubclass(DeviceError, GeoFuseError)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_where_there_is_none_is_refused(name: str) -> None:
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device(name, local_rank=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_indices() -> None:
    count = torch.cuda.device_count()
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("auto", local_rank=0) == torch.device("cuda:0")
    assert resolve_device("cuda", local_rank=count - 1) == torch.device(f"cuda:{count - 1}")
    with pytest.raises(DeviceError, match=f"only {count} CUDA GPU"):
        resolve_device(f"cuda:{count}")
