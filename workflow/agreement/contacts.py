"""Who an organisation's contact people are: its own, else those of its nearest ancestor."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def resolve_contacts(parents: Mapping[K, K | None], own: Mapping[K, Sequence[V]]) -> dict[K, tuple[V, ...]]:
    """Every organisation of `parents` -> its own contact people, else its nearest ancestor's.

    Each chain is walked until it returns to an organisation already on it, so a parent loop
    ends the walk: a loop in which nobody has contacts of their own yields none. A parent that
    is not a key of `parents` is the top of its chain (its own contacts still count).
    """
    resolved: dict[K, tuple[V, ...]] = {}
    for org in parents:
        seen: set[K] = set()
        cur: K | None = org
        while cur is not None and not own.get(cur) and cur not in seen:
            seen.add(cur)
            cur = parents.get(cur)
        resolved[org] = tuple(own.get(cur, ())) if cur is not None else ()
    return resolved


def parent_loops(parents: Mapping[K, K | None]) -> list[tuple[K, ...]]:
    """Each loop of parent links once, as its members in parent order, starting with the member
    that comes first in `parents` (so A -> B -> A is (A, B), A -> A is (A,))."""
    order = {org: i for i, org in enumerate(parents)}
    done: set[K] = set()
    loops: list[tuple[K, ...]] = []
    for start in parents:
        path: list[K] = []
        on_path: set[K] = set()
        cur: K | None = start
        while cur is not None and cur in parents and cur not in done and cur not in on_path:
            path.append(cur)
            on_path.add(cur)
            cur = parents[cur]
        if cur is not None and cur in on_path:
            loop = path[path.index(cur) :]
            first = min(range(len(loop)), key=lambda i: order[loop[i]])
            loops.append(tuple(loop[first:] + loop[:first]))
        done.update(path)
    return loops
