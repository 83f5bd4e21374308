"""The findings list counts exactly up to a cap and says "more than" beyond it, on both back ends."""

from __future__ import annotations

import pytest
from helpers_store import finding, new_project, scan_of

from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.queries import FindingFilter, list_findings


def _seed(store: Store, count: int) -> int:
    project = new_project(store)
    findings = [finding(f"r{i}", f"app/m{i}.py", f"c{i}") for i in range(count)]
    ingest(store, project, scan_of(*findings), "ci")
    return project


def test_capped_count_is_a_lower_bound_and_paging_goes_on(store: Store) -> None:
    project = _seed(store, 12)
    with store.read() as session:
        exact = list_findings(session, FindingFilter([project], per_page=5))
        first = list_findings(session, FindingFilter([project], per_page=5), count_cap=5)
        last = list_findings(session, FindingFilter([project], per_page=5, page=3), count_cap=5)
        beyond = list_findings(session, FindingFilter([project], per_page=5, page=9), count_cap=5)
    assert (exact.total, exact.exact, exact.pages, exact.has_next) == (12, True, 3, True)
    assert (first.total, first.exact, len(first.items), first.has_next) == (5, False, 5, True)
    assert first.pages >= 2
    # the page is not clamped to the capped total: page 3 holds the last two findings
    assert (last.page, len(last.items), last.has_next) == (3, 2, False)
    assert (beyond.items, beyond.has_next) == ([], False)
    seen = {f.id for f in first.items} | {f.id for f in last.items}
    assert len(seen) == 7


def test_under_the_cap_the_count_is_exact(store: Store) -> None:
    project = _seed(store, 4)
    with store.read() as session:
        page = list_findings(session, FindingFilter([project], per_page=3, page=7), count_cap=4)
        empty = list_findings(session, FindingFilter([project], statuses=["fixed"]), count_cap=4)
    # exactly the cap is still exact, and a page past the end is clamped to the last one
    assert (page.total, page.exact, page.page, page.pages, len(page.items), page.has_next) == (
        4,
        True,
        2,
        2,
        1,
        False,
    )
    assert (empty.total, empty.exact, empty.items) == (0, True, [])


@pytest.mark.parametrize("sort", ["severity", "title", "first_seen"])
def test_a_search_read_once_pages_like_the_sorted_query(store: Store, sort: str) -> None:
    project = _seed(store, 30)
    for descending in (True, False):
        for page_number in (1, 2, 3, 4):
            filt = FindingFilter([project], query="app/m1", sort=sort, descending=descending, per_page=4)
            filt.page = page_number
            with store.read() as session:
                exact = list_findings(session, filt)
                capped = list_findings(session, filt, count_cap=50)
                over = list_findings(session, filt, count_cap=5)
            assert (
                (capped.total, capped.exact, capped.page)
                == (exact.total, True, exact.page)
                == (11, True, min(page_number, 3))
            )
            assert [f.id for f in capped.items] == [f.id for f in exact.items]
            assert (over.total, over.exact) == (5, False)
            assert [f.id for f in over.items] == ([f.id for f in exact.items] if page_number <= 3 else [])
