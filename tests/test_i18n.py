"""The catalogs are complete (same keys, same placeholders in zh and en), every `t("key")` in the
UI exists, and UI code holds no hard-coded Chinese text (it belongs in `chatapp/i18n/zh.py`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from chatapp.i18n import LANGUAGES, TRANSLATIONS, normalise_language, translate

ROOT = Path(__file__).resolve().parents[1] / "chatapp"
UI_FILES = sorted([*(ROOT / "components").glob("*.py"), *(ROOT / "pages").glob("*.py")])
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# (file name, literal) pairs allowed to contain CJK text, each with the reason.
ALLOWLIST: set[tuple[str, str]] = {
    # The one-character avatar of a user without a nickname ("me"): a glyph, not a sentence.
    ("toolbar.py", "我"),
    ("message_bubble.py", "我"),
    # A language's own name (autonym) reads the same in every UI language.
    ("login.py", "中文"),
}


def _t_keys(tree: ast.AST) -> list[str]:
    """The literal keys passed to `t(...)` (and to helpers taking a `*_key` argument)."""
    keys: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        # Recharts' `data_key` names a column of the chart's rows, not a text.
        keyed = [kw for kw in node.keywords if kw.arg and "key" in kw.arg and kw.arg != "data_key"]
        args = list(node.args) + [kw.value for kw in keyed]
        if name == "t":
            args = node.args[:1]
        elif not keyed:
            # Helpers like `_nav(icon, href, "nav.chat", ...)`: any literal shaped like a key.
            args = [a for a in node.args if isinstance(a, ast.Constant)]
            args = [a for a in args if isinstance(a.value, str) and _looks_like_key(a.value)]
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys.append(arg.value)
    return keys


def _looks_like_key(text: str) -> bool:
    prefixes = {key.split(".", 1)[0] + "." for key in TRANSLATIONS["zh"]}
    return bool(re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", text)) and text.startswith(tuple(prefixes))


def test_every_language_has_every_key():
    zh, en = set(TRANSLATIONS["zh"]), set(TRANSLATIONS["en"])
    assert set(TRANSLATIONS) == set(LANGUAGES)
    assert not zh - en, f"missing in en: {sorted(zh - en)}"
    assert not en - zh, f"missing in zh: {sorted(en - zh)}"
    empty = [(lang, k) for lang, table in TRANSLATIONS.items() for k, v in table.items() if not v]
    assert not empty


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_every_language_has_the_same_placeholders():
    zh, en = TRANSLATIONS["zh"], TRANSLATIONS["en"]
    differ = {
        key: (sorted(_placeholders(zh[key])), sorted(_placeholders(en[key])))
        for key in zh.keys() & en.keys()
        if _placeholders(zh[key]) != _placeholders(en[key])
    }
    assert not differ, f"placeholders differ between zh and en: {differ}"


def test_the_placeholder_check_sees_a_renamed_placeholder():
    assert _placeholders("第 {n} 项") != _placeholders("entry {count}")
    assert _placeholders("{field} from {lo} to {hi}{hint}") == {"field", "lo", "hi", "hint"}


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_every_used_key_exists(path: Path):
    keys = _t_keys(ast.parse(path.read_text(encoding="utf-8")))
    missing = [k for k in keys if k not in TRANSLATIONS["zh"]]
    assert not missing, f"{path.name} uses keys missing from chatapp/i18n/zh.py: {missing}"


def test_the_scanner_finds_keys():
    keys = _t_keys(ast.parse('t("roles.start")\n_field("chat.model", x)\nf(label_key="nav.chat")'))
    assert sorted(keys) == ["chat.model", "nav.chat", "roles.start"]


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: p.name)
def test_no_hard_coded_chinese_in_ui_code(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CJK.search(node.value)
        and (path.name, node.value) not in ALLOWLIST
    ]
    assert not found, f"{path.name} hard-codes UI text; move it to chatapp/i18n/zh.py: {found}"


def test_translate_falls_back():
    assert translate("roles.start", "en") == "Start chat"
    assert translate("roles.start", "fr") == "开始对话"
    assert translate("no.such.key", "en") == "no.such.key"
    assert normalise_language("en-US") == "en" and normalise_language(None) == "zh"
