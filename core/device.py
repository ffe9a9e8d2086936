"""Which torch device a run uses (`auto` = cuda > mps > cpu), and the optimiser built for it."""

from __future__ import annotations

import os

import torch

from core.validate import check_choice

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto") -> torch.device:
    """The torch.device for `name`; asking for an absent accelerator is a ValueError."""
    check_choice("device", name, DEVICES)
    has_mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: CUDA was requested but torch sees no CUDA GPU on this machine")
    if name == "mps" and not has_mps:
        raise ValueError("device: MPS was requested but this machine has no Apple GPU")
    return torch.device(name)


def adam(params, device: torch.device | str = "cpu", **kwargs) -> torch.optim.Adam:
    """torch.optim.Adam with the fused kernel where torch has one (CPU and CUDA): one pass over the weights.

    On the CPU the default (per-tensor) Adam costs ~3.6 ms per step for the MNIST GAN's 0.5 M-weight critic, the
    fused one ~0.3 ms; in a small-batch training loop that is a tenth of every step. Same update, same defaults.
    """
    fused = torch.device(device).type in ("cpu", "cuda")
    return torch.optim.Adam(params, fused=fused or None, **kwargs)


def describe_device(name: str = "auto") -> str:
    """A one-line badge: the GPU's name, MPS, or CPU with its thread count."""
    dev = resolve_device(name)
    if dev.type == "cuda":
        return f"CUDA · {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "MPS · Apple GPU"
    return f"CPU · {os.cpu_count()} cores"


def available_devices() -> list[str]:
    """Device names a user may pick here (auto first)."""
    out = ["auto", "cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        out.append("mps")
    return out
