"""Start-up work, done once per process when the app module loads: settings, logging, database."""

from __future__ import annotations

import logging

from chatapp.core.config import get_settings
from chatapp.core.db import init_db
from chatapp.core.logs import setup_logging

_done = False


def startup() -> None:
    """Validates settings, creates tables, marks answers left streaming by a dead process and
    releases the reservations it held."""
    global _done
    if _done:
        return
    settings = get_settings()
    setup_logging()
    init_db(settings.database_url)
    from chatapp.billing.wallet import release_stale
    from chatapp.chat.answers import reap_stale_answers
    from chatapp.core.db import session_scope
    from chatapp.roles.library import sync_builtin_roles

    with session_scope() as session:
        sync_builtin_roles(session)
        released = release_stale(session)
    if released:
        logging.getLogger(__name__).info("released %d stale reservations", released)
    reaped = reap_stale_answers()
    if reaped:
        logging.getLogger(__name__).info("marked %d interrupted answers", reaped)
    _done = True
