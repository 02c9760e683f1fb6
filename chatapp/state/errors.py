"""What a user sees when an event handler fails unexpectedly: a short, bilingual toast.

Reflex's default shows "Contact the website administrator"; ours says what kind of trouble it is
(the database being down is the common one) and never shows exception text. The traceback goes to
the log.
"""

import logging

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.exc import SQLAlchemyError

from chatapp.errors import user_message

log = logging.getLogger("chatapp.handlers")


# No `from __future__ import annotations` here: Reflex checks these annotations at runtime.
def on_backend_error(exception: Exception) -> EventSpec:
    """Logs the failure and tells the user in both languages (the handler has no state)."""
    log.error("event handler failed", exc_info=exception)
    code = "database" if isinstance(exception, SQLAlchemyError) else "internal"
    return rx.toast.error(
        user_message(code, "zh"),
        description=user_message(code, "en"),
        id="backend_error",
        position="top-center",
    )
