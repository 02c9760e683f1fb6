"""敏感词: width- and case-blind matching, masking that maps back to the original text, streamed
masking across batch boundaries, and the stored list every worker reloads."""

from __future__ import annotations

import random

import pytest

from chatapp.billing import sensitive
from chatapp.billing.sensitive import StreamMasker, WordList
from chatapp.errors import InvalidInput

WORDS = WordList(["违禁词", "badword", "ＡＢＣ"])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("这里有违禁词。", ["违禁词"]),
        ("a BadWord here", ["badword"]),
        ("ＢＡＤＷＯＲＤ", ["badword"]),  # full width, upper case
        ("abc and ABC", ["abc"]),  # the list's full-width word, typed half width
        ("nothing to see", []),
        ("", []),
    ],
)
def test_find_ignores_width_and_case(text, found):
    assert WORDS.find(text) == found


def test_mask_replaces_each_character_of_the_original_text():
    assert WORDS.mask("说违禁词和ＢａｄＷｏｒｄ") == "说＊＊＊和＊＊＊＊＊＊＊"
    assert WORDS.mask("clean") == "clean"


def test_a_word_split_across_batches_is_masked_before_any_of_it_shows():
    text = "前文违禁词后文badword结尾"
    for cut_a in range(len(text) + 1):
        for cut_b in range(cut_a, len(text) + 1):
            masker = StreamMasker(WORDS)
            shown = [masker.feed(text[:cut_a]), masker.feed(text[cut_a:cut_b])]
            shown.append(masker.feed(text[cut_b:]))
            shown.append(masker.flush())
            joined = "".join(shown)
            assert joined == "前文＊＊＊后文＊＊＊＊＊＊＊结尾", (cut_a, cut_b)
            # Nothing shown at any step holds a word, or the first characters of one.
            assert "违" not in joined and "bad" not in joined


def test_random_batches_never_leak_a_word():
    rng = random.Random(7)
    words = WordList(["敏感", "secret", "机密文件"])
    alphabet = list("敏感机密文件secrt ab的")
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        masker = StreamMasker(words)
        out, i = [], 0
        while i < len(text):
            step = rng.randint(1, 5)
            out.append(masker.feed(text[i : i + step]))
            i += step
        out.append(masker.flush())
        assert "".join(out) == words.mask(text)


def test_no_list_masks_nothing_and_holds_nothing():
    masker = StreamMasker(sensitive.EMPTY)
    assert masker.feed("abc") == "abc" and masker.flush() == ""


def test_parse_words_drops_blanks_and_duplicates_and_refuses_a_long_line():
    assert sensitive.parse_words("a\n\n  b \nA\nＡ\n") == ["a", "b"]
    with pytest.raises(InvalidInput) as err:
        sensitive.parse_words("ok\n" + "x" * 65)
    assert (err.value.reason, err.value.detail) == ("word_too_long", "2")


def test_a_saved_list_is_the_policy_after_the_reload(session):
    assert sensitive.policy(session).words.size == 0
    sensitive.save_words(
        session, words=["机密"], refuse_input=True, mask_output=False, actor_id=None
    )
    session.commit()
    current = sensitive.policy(session)
    assert current.words.find("这是机密") == ["机密"]
    assert current.refuse_input and not current.mask_output
    assert current.version == 1


def test_ten_thousand_words_compile_and_match():
    words = WordList(f"词{i:05d}" for i in range(10_000))
    assert words.find("前缀词04321后缀") == ["词04321"]


@pytest.mark.parametrize(
    "text",
    [
        "这里有违禁词。",
        "plain lower case",
        "café e\u0301",
        "Ｆｕｌｌ ｗｉｄｔｈ",
        "Straße",
        "ﬁ ① ㎏",
        "한국어",
    ],
)
def test_text_that_folds_to_itself_takes_the_short_way_with_the_same_result(text):
    slow = "".join(sensitive._fold(c) for c in text)
    folded, origin = sensitive._normalised(text)
    assert folded == slow
    assert len(origin) == len(folded) and all(0 <= i < len(text) for i in origin)
