"""The operator's side: who is an admin, the audit log, the dashboard's figures and the user list.

- `access`: admins from ADMIN_OPENIDS or granted by the CLI; `require_admin` re-checks every call;
- `audit`: who did what when (admin actions, logins, refusals), filterable and exportable;
- `dashboard`: the figures and series the admin page charts, and `/api/v1/admin/usage`;
- `users`: search and sort users, one user's usage and counts, freeze, plan, balance, sessions;
- `__main__`: `python -m chatapp.admin grant|revoke OPENID`.
"""
