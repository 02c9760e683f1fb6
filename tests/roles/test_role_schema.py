"""Role validation and file formats (ours and NextChat masks), table-driven."""

from __future__ import annotations

import json

import pytest

from chatapp.errors import InvalidInput
from chatapp.roles.schema import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROLES,
    Opening,
    RoleInput,
    export_json,
    parse_import,
    validate_role,
)

NEXTCHAT_MASKS = [
    {
        "id": "1",
        "avatar": "1f5bc-fe0f",
        "name": "以文搜图",
        "context": [
            {"id": "a", "role": "system", "content": "You are a useful Assistant.", "date": ""},
            {"id": "b", "role": "user", "content": "Can you help me?", "date": ""},
            {"id": "c", "role": "assistant", "content": "Sure.", "date": ""},
        ],
        "modelConfig": {
            "model": "gpt-3.5-turbo",
            "temperature": 1,
            "max_tokens": 2000,
            "presence_penalty": 0,
            "historyMessageCount": 32,
            "sendMemory": True,
        },
        "lang": "cn",
        "builtin": True,
        "createdAt": 1688899480510,
    },
    {
        "avatar": "🤖",
        "name": "English mask",
        "context": [{"role": "user", "content": "Only an opening message"}],
        "modelConfig": {"model": "gpt-4", "top_p": 0.9},
        "lang": "en",
    },
]


def test_form_values_are_validated_and_normalised():
    role = validate_role(
        {
            "name": "  翻译  ",
            "system_prompt": "translate",
            "temperature": "0.5",
            "max_tokens": "",
            "tags": "写作，翻译、写作",
            "language": "en-US",
        }
    )
    assert (role.name, role.temperature, role.max_tokens) == ("翻译", 0.5, None)
    assert role.tags == ("写作", "翻译")
    assert role.language == "en"
    assert role.avatar == "🤖"


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        ({"name": "", "system_prompt": "x"}, "name_required", "name"),
        ({"name": "a"}, "prompt_required", "system_prompt"),
        ({"name": "a" * 65, "system_prompt": "x"}, "too_long", "name"),
        ({"name": "a", "system_prompt": "x", "temperature": "hot"}, "bad_number", "temperature"),
        ({"name": "a", "system_prompt": "x", "temperature": 3}, "out_of_range", "temperature"),
        ({"name": "a", "system_prompt": "x", "top_p": "nan"}, "out_of_range", "top_p"),
        ({"name": "a", "system_prompt": "x", "max_tokens": "1.5"}, "bad_number", "max_tokens"),
        (
            {"name": "a", "system_prompt": "x", "context_window": 0},
            "out_of_range",
            "context_window",
        ),
        (
            {"name": "a", "system_prompt": "x", "opening": [{"role": "system", "content": "x"}]},
            "bad_opening",
            "opening",
        ),
        ({"name": "a", "system_prompt": "x", "opening": "not json"}, "bad_opening", "opening"),
        (
            {"name": "a", "system_prompt": "x", "tags": ",".join(f"t{i}" for i in range(9))},
            "too_many_tags",
            "tags",
        ),
        (
            {"name": "a", "system_prompt": "x", "avatar": "not an emoji at all"},
            "bad_avatar",
            "avatar",
        ),
        ({"name": 5, "system_prompt": "x"}, "bad_field", "name"),
    ],
)
def test_bad_role_fields(fields, reason, field):
    with pytest.raises(InvalidInput) as err:
        validate_role(fields)
    assert (err.value.reason, err.value.detail) == (reason, field)


def test_nextchat_masks_map_system_to_prompt_and_the_rest_to_opening():
    roles = parse_import(json.dumps(NEXTCHAT_MASKS))
    first, second = roles
    assert first.name == "以文搜图"
    assert first.avatar == "🖼️"
    assert first.system_prompt == "You are a useful Assistant."
    assert first.opening == (Opening("user", "Can you help me?"), Opening("assistant", "Sure."))
    assert (first.model, first.temperature, first.max_tokens, first.context_window) == (
        "gpt-3.5-turbo",
        1.0,
        2000,
        32,
    )
    assert first.language == "zh"  # NextChat's "cn"
    assert second.system_prompt == "" and second.opening == (
        Opening("user", "Only an opening message"),
    )
    assert (second.top_p, second.language) == (0.9, "en")


def test_nextchat_single_mask_and_id_keyed_object():
    assert [r.name for r in parse_import(json.dumps(NEXTCHAT_MASKS[0]))] == ["以文搜图"]
    keyed = {"x": NEXTCHAT_MASKS[0], "y": NEXTCHAT_MASKS[1]}
    assert len(parse_import(json.dumps(keyed))) == 2


def test_our_format_round_trips():
    role = RoleInput(
        name="R",
        avatar="https://example.com/a.png",
        system_prompt="S",
        opening=(Opening("user", "u"), Opening("assistant", "a")),
        model="m",
        temperature=0.3,
        top_p=0.8,
        max_tokens=100,
        context_window=4,
        token_budget=1000,
        tags=("t",),
        language="en",
    )
    text = export_json([role, role])
    assert json.loads(text)["format"] == "chatapp.roles"
    assert parse_import(text) == [role, role]
    assert parse_import(text.encode("utf-8-sig")) == [role, role]


@pytest.mark.parametrize(
    ("content", "reason", "detail"),
    [
        (b"\xff\xfe garbage", "bad_json", ""),
        ("{not json", "bad_json", ""),
        ('"a string"', "bad_format", ""),
        ('{"hello": 1}', "bad_format", ""),
        ("[]", "empty_file", ""),
        (
            '{"format": "chatapp.roles", "version": 99, "roles": []}',
            "unsupported_version",
            "99",
        ),
        ('{"format": "chatapp.roles", "version": 1, "roles": {}}', "bad_format", ""),
        ('[{"name": "ok", "context": [{"role":"system","content":"x"}]}, 7]', "bad_format", "#2"),
        ('[{"name": "ok", "context": "nope"}]', "bad_opening", "#1 context"),
        ('[{"context": [{"role":"system","content":"x"}]}]', "name_required", "#1 name"),
        (
            '[{"name": "x", "context": [{"role":"tool","content":"x"}]}]',
            "bad_opening",
            "#1 opening",
        ),
    ],
)
def test_bad_files_give_a_clear_reason(content, reason, detail):
    with pytest.raises(InvalidInput) as err:
        parse_import(content)
    assert (err.value.reason, err.value.detail) == (reason, detail)


def test_size_and_count_caps():
    with pytest.raises(InvalidInput) as err:
        parse_import(" " * (MAX_IMPORT_BYTES + 1))
    assert err.value.reason == "file_too_large"
    many = [{"name": f"r{i}", "system_prompt": "p"} for i in range(MAX_IMPORT_ROLES + 1)]
    with pytest.raises(InvalidInput) as err:
        parse_import(json.dumps(many))
    assert err.value.reason == "too_many_roles"


def test_errors_read_well_in_both_languages():
    from chatapp.roles.schema import describe_error

    err = InvalidInput("name_required", "#3 name")
    assert describe_error(err, "zh") == "第 3 项 · 名称：请填写名称"
    assert describe_error(err, "en") == "entry 3 · Name: Please enter a name"
    assert describe_error(InvalidInput("bad_json"), "en").startswith("The file is not valid JSON")
