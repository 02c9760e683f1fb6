# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `msg.image_ids` at runtime; pyright cannot see them.)
"""The pictures an image model drew, in its answer bubble: a thumbnail that opens the full size
in a new tab, and a 下载 / Download link. Served by `GET /api/v1/images/{id}` (chatapp/api/images.py)
to the owner's session cookie; the prompt stays the answer's text, shown as the caption."""

from __future__ import annotations

import reflex as rx

from chatapp.chat.items import MessageItem
from chatapp.components.text import t

IMAGE_PATH = "/api/v1/images/"


def _picture(image_id: rx.Var, prompt: rx.Var) -> rx.Component:
    src = IMAGE_PATH + image_id.to(str)
    return rx.box(
        rx.el.a(
            rx.el.img(
                src=src,
                alt=prompt,
                loading="lazy",
                class_name="answer-image-thumb",
                data_testid="answer-image",
            ),
            href=src,
            target="_blank",
            rel="noopener",
            title=t("answer.image.open"),
            aria_label=t("answer.image.open"),
        ),
        rx.el.a(
            rx.icon("download", size=14),
            t("answer.image.download"),
            href=src + "?download=1",
            # The server's Content-Disposition names the file (with the right extension).
            download="chatapp-" + image_id.to(str),
            # Reflex draws `<a>` as React Router's Link, which would route the click inside the
            # app (its 404 page): a plain browser request downloads the file instead.
            custom_attrs={"reloadDocument": True},
            class_name="answer-image-download",
            data_testid="answer-image-download",
        ),
        class_name="answer-image",
    )


def answer_images(msg: rx.Var[MessageItem]) -> rx.Component:
    """The answer's pictures with the prompt as their caption (nothing when it drew none)."""
    return rx.cond(
        msg.image_ids != "",
        rx.box(
            rx.foreach(msg.image_ids.split(" "), lambda i: _picture(i, msg.content)),
            rx.text(
                msg.content, class_name="answer-image-prompt", data_testid="answer-image-prompt"
            ),
            class_name="answer-images",
        ),
    )
