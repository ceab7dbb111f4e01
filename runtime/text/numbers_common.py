"""What the number spellers of the eight languages besides English share."""

from __future__ import annotations

Scale = tuple  # (value, name, ...): e.g. (10 ** 6, "million", "millions")


def scale_groups(n: int, scales: tuple[Scale, ...]) -> tuple[list[tuple[int, int, tuple]], int]:
    """Split n by its scale words, largest first: (count, value, names) for each scale n holds at least once,
    and what is left below the smallest one. 2_500_300 by millions -> [(2, 10**6, names)], 500_300."""
    groups = []
    for value, *names in scales:
        count, n = divmod(n, value)
        if count:
            groups.append((count, value, tuple(names)))
    return groups, n
