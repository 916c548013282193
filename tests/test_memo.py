"""The bounded memos behind encoded texts and decoded dates stay bounded and answer right."""

from __future__ import annotations

from campaignflow._memo import MEMO_LIMIT, remember


def test_a_full_memo_is_emptied_before_it_grows_and_keeps_the_new_value() -> None:
    memo: dict[int, str] = {}
    for key in range(MEMO_LIMIT):
        assert remember(memo, key, str(key)) == str(key)
    assert len(memo) == MEMO_LIMIT
    assert remember(memo, -1, "new") == "new"
    assert memo == {-1: "new"}
