"""Which territories contain a lead, and which one is the most specific.

A territory *directly* holds a lead when it lists countries, the lead's country is one of
them, and the lead's region / postal code pass the territory's regions / postal prefixes
(empty lists mean no restriction). A lead is *in* a territory when that territory or one
inside it directly holds it. The most specific territory is the deepest one that directly
holds the lead; among equals, the one with the narrower criteria (postal prefixes, then
regions), then the lowest id.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from .snapshot import TerritorySpec


def _norm(value) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""


class EngineConfigError(ValueError):
    """The routing set-up cannot be compiled (unknown operator, territory, cycle…)."""


class TerritoryTree:
    """The nesting of territories, by id or by name: the one walker of the territory tree.

    Built from `{territory: parent or None}`. Parents that are not in the mapping count as
    none. Walks never loop: a territory inside itself is reported by `inside_itself`, and
    the walks stop where a chain comes back on itself.
    """

    __slots__ = ("parent", "children")

    def __init__(self, parents: Mapping[Hashable, Hashable | None]):
        self.parent = {t: p for t, p in parents.items() if p is not None and p in parents}
        self.children: dict[Hashable, list] = {}
        for t, p in self.parent.items():
            self.children.setdefault(p, []).append(t)

    def ancestors_or_self(self, key) -> list:
        """The territory, its parent, its parent's parent … up to the top."""
        chain, seen = [key], {key}
        while key in self.parent:
            key = self.parent[key]
            if key in seen:
                break
            chain.append(key)
            seen.add(key)
        return chain

    def descendants_or_self(self, key) -> list:
        """The territory and every territory inside it (depth first)."""
        found, seen, todo = [], set(), [key]
        while todo:
            t = todo.pop()
            if t not in seen:
                seen.add(t)
                found.append(t)
                todo.extend(reversed(self.children.get(t, ())))
        return found

    def inside_itself(self, key) -> bool:
        """The territory's chain of parents comes back to it (or loops above it)."""
        chain = self.ancestors_or_self(key)
        return chain[-1] in self.parent

    def depth(self, key) -> int:
        return len(self.ancestors_or_self(key)) - 1

    def parents_first(self, keys: Iterable, sort_key=None) -> list:
        """`keys` ordered so every parent comes before the territories inside it; siblings by `sort_key`."""
        keys = list(keys)
        wanted = set(keys)
        tops = [k for k in keys if self.parent.get(k) not in wanted]
        ordered, seen = [], set()
        for top in sorted(tops, key=sort_key):
            stack = [top]
            while stack:
                t = stack.pop()
                if t in seen or t not in wanted:
                    continue
                seen.add(t)
                ordered.append(t)
                stack.extend(sorted(self.children.get(t, ()), key=sort_key, reverse=True))
        return ordered


class TerritoryIndex:
    __slots__ = ("by_id", "by_name", "tree", "depth", "subtree_countries", "_by_country", "_memo")

    def __init__(self, territories: list[TerritorySpec]):
        self.by_id = {t.id: t for t in territories}
        self.by_name = {_norm(t.name): t.id for t in territories}
        self.tree = TerritoryTree({t.id: t.parent_id for t in territories})
        self.depth: dict[int, int] = {}
        for tid in self.by_id:
            if self.tree.inside_itself(tid):
                raise EngineConfigError(f"territory {tid} is inside itself")
            self.depth[tid] = self.tree.depth(tid)
        self._by_country: dict[str, list[tuple[TerritorySpec, frozenset, tuple]]] = {}
        # Countries reachable through a territory's subtree: the cheap pre-filter used to
        # index `in_territory` rules.
        self.subtree_countries: dict[int, set[str]] = {tid: set() for tid in self.by_id}
        for t in territories:
            regions = frozenset(_norm(r) for r in t.regions)
            prefixes = tuple(_norm(p).replace(" ", "") for p in t.postal_prefixes)
            for country in t.countries:
                c = _norm(country)
                self._by_country.setdefault(c, []).append((t, regions, prefixes))
                for anc in self.ancestors_or_self(t.id):
                    self.subtree_countries[anc].add(c)
        self._memo: dict[tuple[str, str, str], tuple[int | None, frozenset[int]]] = {}

    def ancestors_or_self(self, tid: int) -> list[int]:
        return self.tree.ancestors_or_self(tid)

    def resolve(self, ref) -> int:
        """A territory reference from a rule (id or name) -> id."""
        if isinstance(ref, int) and ref in self.by_id:
            return ref
        if isinstance(ref, str):
            tid = self.by_name.get(_norm(ref))
            if tid is not None:
                return tid
            if ref.isdigit() and int(ref) in self.by_id:
                return int(ref)
        raise EngineConfigError(f"unknown territory {ref!r}")

    def locate(self, country, region, postal_code) -> tuple[int | None, frozenset[int]]:
        """(most specific territory id or None, ids of every territory containing the lead)."""
        hit = self._memo.get((country, region, postal_code))  # as given: most leads repeat
        if hit is not None:
            return hit
        key = (_norm(country), _norm(region), _norm(postal_code).replace(" ", ""))
        hit = self._memo.get(key)
        if hit is not None:
            self._memo[(country, region, postal_code)] = hit
            return hit
        c, r, p = key
        best = None
        best_key = None
        containing: set[int] = set()
        for t, regions, prefixes in self._by_country.get(c, ()):
            if regions and r not in regions:
                continue
            if prefixes and not p.startswith(prefixes):
                continue
            containing.update(self.ancestors_or_self(t.id))
            rank = (self.depth[t.id], 2 if prefixes else (1 if regions else 0), -t.id)
            if best_key is None or rank > best_key:
                best, best_key = t.id, rank
        hit = (best, frozenset(containing))
        self._memo[key] = self._memo[(country, region, postal_code)] = hit
        return hit
