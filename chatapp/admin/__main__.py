"""`python -m chatapp.admin grant|revoke OPENID`: make a user an admin, or stop it.

The user must have logged in once (their openid is then known). Uses DATABASE_URL like the app;
prints what it did, and exits 2 with the reason when it can't.
"""

from __future__ import annotations

import argparse
import sys

from chatapp.admin import access, audit
from chatapp.core.config import get_settings
from chatapp.core.db import session_scope
from chatapp.errors import InvalidInput


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatapp.admin", description=__doc__)
    parser.add_argument("action", choices=["grant", "revoke"])
    parser.add_argument("openid", help="the WeChat openid of a user who has logged in")
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        with session_scope() as session:
            user = access.set_granted(
                session, settings=settings, openid=args.openid, granted=args.action == "grant"
            )
            audit.record(session, action=f"admin.{args.action}", target=f"user:{user.id}")
    except InvalidInput:
        print(f"no user with openid {args.openid!r} has logged in yet", file=sys.stderr)
        return 2
    state = "is an admin" if user.is_admin else "is not an admin"
    note = " (still listed in ADMIN_OPENIDS)" if user.is_admin and args.action == "revoke" else ""
    print(f"{user.nickname or args.openid} {state} now{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
