"""symbiote-lite: network symbiosis on MNIST, as a small library the book's chapters import."""

from symbiote_lite.runtime import default_device, seed_everything

__all__ = ["default_device", "seed_everything"]
