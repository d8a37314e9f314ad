"""The one territory-tree helper: walks up and down, orders parents first, finds loops."""

from routing.engine import TerritoryTree

TREE = TerritoryTree({"EMEA": None, "DACH": "EMEA", "Germany": "DACH", "Bavaria": "Germany", "France": "EMEA"})


def test_ancestors_walk_up_to_the_top():
    assert TREE.ancestors_or_self("Bavaria") == ["Bavaria", "Germany", "DACH", "EMEA"]
    assert TREE.depth("Bavaria") == 3 and TREE.depth("EMEA") == 0


def test_descendants_hold_every_territory_inside():
    assert set(TREE.descendants_or_self("DACH")) == {"DACH", "Germany", "Bavaria"}
    assert TREE.descendants_or_self("France") == ["France"]


def test_parents_come_first_and_siblings_in_order():
    assert TREE.parents_first(["Bavaria", "France", "EMEA", "Germany", "DACH"], sort_key=str) == [
        "EMEA",
        "DACH",
        "Germany",
        "Bavaria",
        "France",
    ]


def test_a_territory_inside_itself_is_found_and_walks_still_end():
    loop = TerritoryTree({1: 2, 2: 3, 3: 1, 4: 1, 5: None})
    assert loop.inside_itself(1) and loop.inside_itself(4) and not loop.inside_itself(5)
    assert loop.ancestors_or_self(4) == [4, 1, 2, 3]
    assert TerritoryTree({7: 7}).inside_itself(7)


def test_a_parent_outside_the_mapping_counts_as_none():
    assert TerritoryTree({"DACH": "EMEA"}).ancestors_or_self("DACH") == ["DACH"]
