"""Where a PostgreSQL ledger lives: its URL as given, split into what connects (the URL without its password, and the
password apart) and what is shown (the URL with ``***`` for the password), so that reprs, messages and logs never
carry the password; and the driver's error texts told with it masked."""

from __future__ import annotations

import urllib.parse
from typing import NoReturn

__all__ = ["SCHEMES", "DatabaseAddress", "is_database_url"]

SCHEMES = ("postgresql://", "postgres://")
MASK = "***"


def is_database_url(value: object) -> bool:
    """A ``ledger=`` setting that names a PostgreSQL database rather than an SQLite file."""
    return isinstance(value, str) and value.strip().lower().startswith(SCHEMES)


class DatabaseAddress:
    """A PostgreSQL URL (``postgresql://user:password@host:5432/db?sslmode=require``) taken apart.

    ``shown``: the URL as messages say it (the password replaced by ``***``); ``conninfo``: the URL without the
    password (what the driver is given, with ``password()`` beside it). Not picklable: the password stays in the
    process that was given it."""

    __slots__ = ("_password", "conninfo", "shown")

    def __init__(self, url: str) -> None:
        url = url.strip()
        scheme, _, rest = url.partition("://")
        rest = rest.partition("#")[0]  # (a fragment means nothing to libpq)
        before_query, _, query = rest.partition("?")
        # The last "@" before the query ends the user part, even when the password holds an unencoded "/" or "@":
        # whatever stands before it is never shown.
        userinfo, at, location = before_query.rpartition("@")
        hosts, slash, path = location.partition("/")
        user, colon, password = userinfo.partition(":")
        params = urllib.parse.parse_qsl(query, keep_blank_values=True)
        from_query = [v for k, v in params if k == "password"]
        kept = [(k, v) for k, v in params if k != "password"]
        self._password: str | None = (urllib.parse.unquote(password) if colon else None) or \
            (from_query[-1] if from_query else None)
        tail = slash + path + (("?" + urllib.parse.urlencode(kept)) if kept else "")
        self.conninfo = f"{scheme}://{user + '@' if at else ''}{hosts}{tail}"
        shown_user = f"{user}:{MASK}@" if self._password is not None else (f"{user}@" if at else "")
        self.shown = f"{scheme}://{shown_user}{hosts}{tail}"

    @property
    def database(self) -> str:
        """The database's name as the URL gives it ('' when it names none)."""
        path = self.conninfo.partition("://")[2].partition("/")[2]
        return urllib.parse.unquote(path.partition("?")[0])

    def password(self) -> str | None:
        """The password, for the driver alone (never formatted into text)."""
        return self._password

    def url(self) -> str:
        """The whole URL, password included: for the driver, or the environment of a child process (never argv,
        where ``ps`` shows it), alone."""
        if self._password is None:
            return self.conninfo
        scheme, _, rest = self.conninfo.partition("://")
        before_query, question, query = rest.partition("?")
        user, at, location = before_query.rpartition("@")
        return f"{scheme}://{user}:{urllib.parse.quote(self._password, safe='')}@{location}{question}{query}"

    def clean(self, text: object) -> str:
        """``text`` with the password (as given, and as it would appear URL-encoded) masked."""
        out = str(text)
        secret = self._password
        if secret:
            for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
                out = out.replace(form, MASK)
        return out

    def with_database(self, name: str) -> DatabaseAddress:
        """The same server and credentials, another database (the drills make one per iteration)."""
        other = object.__new__(DatabaseAddress)
        other._password = self._password
        other.conninfo, other.shown = _other_database(self.conninfo, name), _other_database(self.shown, name)
        return other

    def __repr__(self) -> str:
        return f"DatabaseAddress({self.shown!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseAddress) and (other.conninfo, other._password) == (self.conninfo,
                                                                                           self._password)

    def __hash__(self) -> int:
        return hash(("DatabaseAddress", self.conninfo, self._password))

    def __reduce__(self) -> NoReturn:
        msg = "A database address cannot be pickled: its password stays in the process that was given it."
        raise TypeError(msg)


def _other_database(url: str, name: str) -> str:
    scheme, _, rest = url.partition("://")
    before_query, question, query = rest.partition("?")
    userinfo, at, location = before_query.rpartition("@")
    return f"{scheme}://{userinfo}{at}{location.partition('/')[0]}/{urllib.parse.quote(name)}{question}{query}"
