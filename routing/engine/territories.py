"""Which territories contain a lead, and which one is the most specific.

A territory *directly* holds a lead when it lists countries, the lead's country is one of
them, and the lead's region / postal code pass the territory's regions / postal prefixes
(empty lists mean no restriction). A lead is *in* a territory when that territory or one
inside it directly holds it. The most specific territory is the deepest one that directly
holds the lead; among equals, the one with the narrower criteria (postal prefixes, then
regions), then the lowest id.
"""

from __future__ import annotations

from .snapshot import TerritorySpec


def _norm(value) -> str:
    return value.strip().casefold() if isinstance(value, str) else ""


class EngineConfigError(ValueError):
    """The routing set-up cannot be compiled (unknown operator, territory, cycle…)."""


class TerritoryIndex:
    __slots__ = ("by_id", "by_name", "parent", "depth", "subtree_countries", "_by_country", "_memo")

    def __init__(self, territories: list[TerritorySpec]):
        self.by_id = {t.id: t for t in territories}
        self.by_name = {_norm(t.name): t.id for t in territories}
        self.parent = {t.id: t.parent_id for t in territories if t.parent_id in self.by_id}
        self.depth: dict[int, int] = {}
        for tid in self.by_id:
            self.depth[tid] = self._depth(tid)
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

    def _depth(self, tid: int) -> int:
        seen = set()
        depth = 0
        while tid in self.parent:
            if tid in seen:
                raise EngineConfigError(f"territory {tid} is inside itself")
            seen.add(tid)
            tid = self.parent[tid]
            depth += 1
        return depth

    def ancestors_or_self(self, tid: int) -> list[int]:
        chain = [tid]
        while tid in self.parent:
            tid = self.parent[tid]
            chain.append(tid)
        return chain

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
