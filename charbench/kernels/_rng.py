"""A tiny counter-based random generator for kernels: same numbers on every machine and thread count."""

from charbench.kernels._jit import jit

_MASK32 = 0xFFFFFFFF


@jit
def pcg_hash(x: int) -> int:
    """PCG-RXS-M-XS 32-bit hash of the low 32 bits of ``x`` (int64 arithmetic, no overflow)."""
    state = ((x & _MASK32) * 747796405 + 2891336453) & _MASK32
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & _MASK32
    return (word >> 22) ^ word


@jit
def seed_key(seed: int) -> int:
    """Mix all 64 bits of ``seed`` into one 32-bit stream key."""
    return pcg_hash(pcg_hash(seed) ^ ((seed >> 32) & _MASK32))


@jit
def uniform(key: int, counter: int) -> float:
    """The ``counter``-th number in [0, 1) of the stream ``key``."""
    return pcg_hash((key + pcg_hash(counter)) & _MASK32) / 4294967296.0
