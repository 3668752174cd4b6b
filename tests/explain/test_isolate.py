"""isolate(): one bad input of a batched call fails alone, the others keep their results."""

from reportgen.explain.isolate import isolate


def test_all_good_is_one_call_on_the_list_itself():
    calls = []
    items = [1, 2, 3]
    tens = isolate(items, lambda some: calls.append(some) or [x * 10 for x in some], lambda x, err: None)
    assert tens == [10, 20, 30]
    assert calls == [items] and calls[0] is items  # the caller can tell the whole batch from a retry


def test_a_bad_item_fails_alone_and_the_others_are_computed_again_one_by_one():
    calls = []

    def work(some):
        calls.append(list(some))
        if 2 in some:
            raise ValueError(f"no 2 in {some}")
        return [x * 10 for x in some]

    assert isolate([1, 2, 3], work, lambda x, err: f"{x}: {err}") == [10, "2: no 2 in [2]", 30]
    assert calls == [[1, 2, 3], [1], [2], [3]]


def test_a_single_item_that_fails_is_not_tried_twice():
    calls = []

    def work(some):
        calls.append(list(some))
        raise RuntimeError("always")

    assert isolate(["only"], work, lambda x, err: type(err).__name__) == ["RuntimeError"]
    assert calls == [["only"]]
