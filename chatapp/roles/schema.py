"""Role data outside the database: validation, our versioned JSON format, and NextChat masks (pure).

Everything that enters as a role — a form, a built-in library entry, an imported file — goes through
`validate_role`, so the rules live in one place. Errors are `InvalidInput` with a short reason code;
`describe_error` turns one into the user's language (i18n keys `roles.error.<reason>`).

Import is all-or-nothing: `parse_import` either returns every role in the file or raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from chatapp.core import parameters
from chatapp.errors import InvalidInput
from chatapp.i18n import TRANSLATIONS, translate

EXPORT_FORMAT = "chatapp.roles"
EXPORT_VERSION = 1
MAX_IMPORT_BYTES = 512 * 1024
MAX_IMPORT_ROLES = 100
MAX_OPENING = 20
MAX_TAGS = 8

LIMITS = {
    "name": 64,
    "avatar": 512,
    "description": 500,
    "system_prompt": 8000,
    "opening_content": 4000,
    "model": 128,
    "tag": 24,
}


@dataclass(frozen=True)
class Opening:
    """One opening (few-shot) message."""

    role: str  # user | assistant
    content: str


@dataclass(frozen=True)
class RoleInput:
    """A validated role, ready to be stored (no ids, no owner)."""

    name: str
    avatar: str = "🤖"
    description: str = ""
    system_prompt: str = ""
    opening: tuple[Opening, ...] = ()
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    context_window: int | None = None
    token_budget: int | None = None
    tags: tuple[str, ...] = ()
    language: str = "zh"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def opening_json(self) -> str:
        """The opening messages as stored in `Role.opening_json`."""
        return json.dumps([asdict(o) for o in self.opening], ensure_ascii=False)

    def tags_text(self) -> str:
        """The tags as stored in `Role.tags` (comma-separated)."""
        return ",".join(self.tags)


def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    raw = data.get(name)
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidInput("bad_field", name)
    value = raw.strip()
    if required and not value:
        raise InvalidInput(f"{name}_required", name)
    if len(value) > limit:
        raise InvalidInput("too_long", name)
    return value


def _number(data: Mapping[str, Any], name: str) -> Any:
    """An optional model parameter in its range (`parameters.ABSOLUTE`); "" and None mean unset.

    A role is checked against the widest range any deployment allows, not this one's ceilings:
    the built-in library and imported files must not depend on the operator's settings. Once a
    role's default is a conversation's setting, the ⚙ form shows it and the model request uses
    it clamped to the ceilings (`parameters.effective`)."""
    allowed = parameters.ABSOLUTE[name]
    lo, hi, integer = allowed.lo, allowed.hi, allowed.integer
    raw = data.get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise InvalidInput("bad_number", name)
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("bad_number", name) from exc
    if math.isnan(value) or not lo <= value <= hi:
        raise InvalidInput("out_of_range", name)
    if integer:
        if value != int(value):
            raise InvalidInput("bad_number", name)
        return int(value)
    return round(value, 3)


def parse_tags(raw: Any) -> tuple[str, ...]:
    """Tags from a list or a comma/、/， separated string; trimmed, de-duplicated, capped.

    Raises:
        InvalidInput: not a list or string, a tag too long, or too many tags.
    """
    if raw is None:
        return ()
    if isinstance(raw, str):
        parts = raw.replace("，", ",").replace("、", ",").split(",")
    elif isinstance(raw, list):
        parts = [p if isinstance(p, str) else "" for p in raw]
    else:
        raise InvalidInput("bad_field", "tags")
    tags: list[str] = []
    for part in parts:
        tag = part.strip()
        if not tag or tag in tags:
            continue
        if len(tag) > LIMITS["tag"]:
            raise InvalidInput("too_long", "tags")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput("too_many_tags", "tags")
    return tuple(tags)


def parse_opening(raw: Any) -> tuple[Opening, ...]:
    """Opening messages from a list of `{"role", "content"}`; empty contents are dropped.

    Raises:
        InvalidInput: malformed items, an unknown role, too many or too long messages.
    """
    if raw is None:
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw or "[]")
        except ValueError as exc:
            raise InvalidInput("bad_opening", "opening") from exc
    if not isinstance(raw, list):
        raise InvalidInput("bad_opening", "opening")
    items: list[Opening] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise InvalidInput("bad_opening", "opening")
        role, content = item.get("role"), item.get("content")
        if role not in {"user", "assistant"} or not isinstance(content, str):
            raise InvalidInput("bad_opening", "opening")
        if not content.strip():
            continue
        if len(content) > LIMITS["opening_content"]:
            raise InvalidInput("too_long", "opening")
        items.append(Opening(role, content.strip()))
    if len(items) > MAX_OPENING:
        raise InvalidInput("too_many_opening", "opening")
    return tuple(items)


def validate_role(data: Mapping[str, Any]) -> RoleInput:
    """Checks role fields from a form, the library or a file.

    Args:
        data: field values; numbers may be strings (form input), "" means unset.

    Returns:
        The validated role.

    Raises:
        InvalidInput: `reason` is name_required, prompt_required, too_long, bad_number,
            out_of_range, bad_opening, too_many_opening, too_many_tags or bad_field;
            `detail` names the field.
    """
    name = _text(data, "name", LIMITS["name"], required=True)
    prompt = _text(data, "system_prompt", LIMITS["system_prompt"])
    opening = parse_opening(data.get("opening"))
    if not prompt and not opening:
        raise InvalidInput("prompt_required", "system_prompt")
    avatar = _text(data, "avatar", LIMITS["avatar"]) or "🤖"
    if len(avatar) > 8 and not avatar.startswith(("https://", "http://", "/")):
        # Long avatars must be image URLs; anything else is a typo we'd render as text.
        raise InvalidInput("bad_avatar", "avatar")
    language = _text(data, "language", 8) or "zh"
    if language not in {"zh", "en"}:
        language = "en" if language.lower().startswith("en") else "zh"
    return RoleInput(
        name=name,
        avatar=avatar,
        description=_text(data, "description", LIMITS["description"]),
        system_prompt=prompt,
        opening=opening,
        model=_text(data, "model", LIMITS["model"]) or None,
        temperature=_number(data, "temperature"),
        top_p=_number(data, "top_p"),
        max_tokens=_number(data, "max_tokens"),
        context_window=_number(data, "context_window"),
        token_budget=_number(data, "token_budget"),
        tags=parse_tags(data.get("tags")),
        language=language,
    )


def role_to_dict(role: RoleInput) -> dict[str, Any]:
    """One role in our export format."""
    out: dict[str, Any] = {
        "name": role.name,
        "avatar": role.avatar,
        "description": role.description,
        "system_prompt": role.system_prompt,
        "opening": [asdict(o) for o in role.opening],
        "tags": list(role.tags),
        "language": role.language,
    }
    for key in ("model", "temperature", "top_p", "max_tokens", "context_window", "token_budget"):
        value = getattr(role, key)
        if value is not None:
            out[key] = value
    return out


def export_json(roles: list[RoleInput]) -> str:
    """Roles as a versioned JSON document (`{"format", "version", "roles"}`)."""
    doc = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "roles": [role_to_dict(r) for r in roles],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _from_mask(mask: Mapping[str, Any]) -> dict[str, Any]:
    """A NextChat mask mapped to our field names (validated afterwards)."""
    context = mask.get("context") or []
    if not isinstance(context, list):
        raise InvalidInput("bad_opening", "context")
    system_parts: list[str] = []
    opening: list[Any] = []
    for msg in context:
        if not isinstance(msg, Mapping):
            raise InvalidInput("bad_opening", "context")
        content = msg.get("content")
        if isinstance(content, list):  # multimodal parts: keep the text ones
            content = "".join(
                p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("text")
            )
        if msg.get("role") == "system":
            if isinstance(content, str) and content.strip():
                system_parts.append(content.strip())
        else:
            opening.append({"role": msg.get("role"), "content": content})
    config = mask.get("modelConfig") or {}
    if not isinstance(config, Mapping):
        raise InvalidInput("bad_field", "modelConfig")
    avatar = mask.get("avatar")
    # NextChat stores emoji avatars as unified hex code points ("1f916"); turn them into the emoji.
    if isinstance(avatar, str) and avatar and all(c in "0123456789abcdef-" for c in avatar):
        try:
            avatar = "".join(chr(int(cp, 16)) for cp in avatar.split("-"))
        except ValueError:
            avatar = None
    return {
        "name": mask.get("name"),
        "avatar": avatar if isinstance(avatar, str) else None,
        "description": mask.get("description") if isinstance(mask.get("description"), str) else "",
        "system_prompt": "\n\n".join(system_parts),
        "opening": opening,
        "model": config.get("model") if isinstance(config.get("model"), str) else None,
        "temperature": config.get("temperature"),
        "top_p": config.get("top_p"),
        "max_tokens": config.get("max_tokens"),
        "context_window": config.get("historyMessageCount") or None,
        "tags": [mask["category"]] if isinstance(mask.get("category"), str) else None,
        "language": mask.get("lang") if isinstance(mask.get("lang"), str) else "zh",
    }


def parse_import(text: str | bytes) -> list[RoleInput]:
    """Reads roles from our export format or NextChat mask JSON (an array or a single mask).

    Args:
        text: the file content.

    Returns:
        Every role in the file, validated.

    Raises:
        InvalidInput: reason file_too_large, bad_json, bad_format, unsupported_version,
            empty_file, too_many_roles, or a role's own validation reason — with `detail` set to
            "#<n> <field>" so the user can find the bad entry. Nothing is returned partially.
    """
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput("file_too_large", str(MAX_IMPORT_BYTES // 1024))
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("bad_json") from exc

    entries: list[Any]
    ours = False
    if isinstance(doc, Mapping) and doc.get("format") == EXPORT_FORMAT:
        version = doc.get("version")
        if not isinstance(version, int) or version > EXPORT_VERSION or version < 1:
            raise InvalidInput("unsupported_version", str(version))
        listed = doc.get("roles")
        if not isinstance(listed, list):
            raise InvalidInput("bad_format")
        entries = listed
        ours = True
    elif isinstance(doc, list):
        entries = doc
    elif isinstance(doc, Mapping) and ("context" in doc or "modelConfig" in doc):
        entries = [doc]
    elif isinstance(doc, Mapping) and all(isinstance(v, Mapping) for v in doc.values()) and doc:
        entries = list(doc.values())  # NextChat's {"id": mask, ...} form
    else:
        raise InvalidInput("bad_format")
    if not entries:
        raise InvalidInput("empty_file")
    if len(entries) > MAX_IMPORT_ROLES:
        raise InvalidInput("too_many_roles", str(MAX_IMPORT_ROLES))

    roles: list[RoleInput] = []
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise InvalidInput("bad_format", f"#{index}")
        is_mask = not ours and ("context" in entry or "modelConfig" in entry)
        try:
            roles.append(validate_role(_from_mask(entry) if is_mask else dict(entry)))
        except InvalidInput as exc:
            raise InvalidInput(exc.reason, f"#{index} {exc.detail}".strip()) from exc
    return roles


def describe_error(exc: InvalidInput, lang: str) -> str:
    """The text a user reads for a role validation or import error, e.g. "第 3 项 · 名称：请填写名称"."""
    text = translate(f"roles.error.{exc.reason}", lang)
    where: list[str] = []
    for part in exc.detail.split():
        if part.startswith("#") and part[1:].isdigit():
            where.append(translate("roles.error.entry", lang).replace("{n}", part[1:]))
        elif f"roles.field.{part}" in TRANSLATIONS["zh"]:
            where.append(translate(f"roles.field.{part}", lang))
    sep = ": " if lang == "en" else "："
    return (" · ".join(where) + sep + text) if where else text
