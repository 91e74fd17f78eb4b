"""Where a request goes and whom it trusts: proxies and certificates, from the Client's settings or, like every
Python HTTP tool, from the environment (``trust_env=True``).

Proxies: ``proxy=`` for everything, else ``HTTPS_PROXY`` / ``HTTP_PROXY`` by the target's scheme, then
``ALL_PROXY``, with ``NO_PROXY`` exempting hosts (any case; lower case wins, as in urllib). Certificates: the
system's store and certifi's, plus a bundle named by ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` (a folder by ``SSL_CERT_DIR``); ``verify=`` a path uses that bundle alone, ``False`` checks
nothing, an ``ssl.SSLContext`` is used as given.
"""

from __future__ import annotations

import functools
import os
import ssl
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .._errors import ConfigError

__all__ = ["CA_SETTINGS", "PROXY_SETTINGS", "Network", "redact"]

# Named in messages: the settings that fix a certificate or a proxy problem.
CA_SETTINGS = "verify= (a CA bundle path), SSL_CERT_FILE or REQUESTS_CA_BUNDLE"
PROXY_SETTINGS = "proxy= (e.g. 'http://user:pass@proxy:3128') or HTTPS_PROXY / HTTP_PROXY / NO_PROXY"
# Environment variables naming a CA bundle file, in the order they are read (each loaded when set).
CA_FILE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROXY_SCHEMES = ("http",)  # what aiohttp can speak to a proxy (an https target goes through CONNECT)


def redact(url: str) -> str:
    """A URL with any password replaced: proxy URLs carry credentials, messages and reprs must not."""
    split = urllib.parse.urlsplit(url)
    if split.password is None and split.username is None:
        return url
    host = split.hostname or ""
    netloc = f"{split.username or ''}:****@{host}" + (f":{split.port}" if split.port else "")
    return urllib.parse.urlunsplit(split._replace(netloc=netloc))


def _check_proxy(url: str, source: str) -> str:
    split = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")  # "proxy:3128" means http, as in curl
    if split.scheme not in PROXY_SCHEMES or not split.hostname:
        msg = (f"{source} is {redact(url)!r}: only http:// proxies are supported (an https target is "
               f"tunnelled through them with CONNECT).\n\nHint: set {PROXY_SETTINGS} to an http:// URL.")
        raise ConfigError(msg)
    return urllib.parse.urlunsplit(split)


def _context(verify: bool | str | os.PathLike[str] | ssl.SSLContext, trust_env: bool) -> ssl.SSLContext:
    """The TLS context every connection of a client uses, built once."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checks and verification on
    if verify is not True:  # a bundle (or a folder of certificates): that alone, as requests and httpx do
        _load(context, os.fspath(verify), "verify=")
        return context
    import certifi

    context.load_verify_locations(certifi.where())
    if trust_env:  # the system's store, honouring SSL_CERT_FILE / SSL_CERT_DIR as OpenSSL reads them
        context.set_default_verify_paths()
        for name in CA_FILE_VARIABLES:
            if os.environ.get(name):
                _load(context, os.environ[name], f"{name} (environment)")
        if os.environ.get("SSL_CERT_DIR"):
            _load(context, os.environ["SSL_CERT_DIR"], "SSL_CERT_DIR (environment)")
    return context


def _load(context: ssl.SSLContext, path: str, source: str) -> None:
    try:
        if os.path.isdir(path):
            context.load_verify_locations(capath=path)
        else:
            context.load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        why = "does not exist" if isinstance(exc, FileNotFoundError) else f"holds no certificate it can read ({exc})"
        msg = (f"{source} names {path!r}, which {why}.\n\nHint: point it at a PEM file of CA "
               "certificates (your company's CA), or leave it unset.")
        raise ConfigError(msg) from None


@dataclass
class Network:
    """One client's network settings, resolved once: the TLS context and, per host, the proxy to use."""

    verify: Any = True
    proxy: str | None = None
    trust_env: bool = True
    _proxies: dict[str, str] = field(default_factory=dict, repr=False)
    _chosen: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.verify, bool | str | os.PathLike | ssl.SSLContext):
            msg = (f"verify is {self.verify!r}; it takes True, False, a CA bundle path or an "
                   "ssl.SSLContext.")
            raise ConfigError(msg)
        if self.proxy:
            self.proxy = _check_proxy(self.proxy, "proxy=")
        elif self.trust_env:
            found = urllib.request.getproxies_environment()  # any case; lower case wins
            self._proxies = {k: v for k, v in found.items() if k in ("http", "https", "all", "no") and v}

    @functools.cached_property
    def context(self) -> ssl.SSLContext:
        """The TLS context (built at the first https request: loading CA stores costs a few milliseconds)."""
        return _context(self.verify, self.trust_env)

    def proxy_for(self, url: str) -> str | None:
        """The proxy a request to ``url`` goes through (None: straight there); looked up once per host."""
        split = urllib.parse.urlsplit(url)
        key = (split.scheme, split.netloc)
        if key not in self._chosen:
            self._chosen[key] = self._choose(split.scheme, split.hostname or "")
        return self._chosen[key]

    def _choose(self, scheme: str, host: str) -> str | None:
        if self.proxy:
            return self.proxy
        found = self._proxies.get(scheme) or self._proxies.get("all")
        if not found or urllib.request.proxy_bypass_environment(host, self._proxies):  # type: ignore[attr-defined]  # not in typeshed
            return None
        variable = f"{scheme.upper()}_PROXY" if self._proxies.get(scheme) else "ALL_PROXY"
        return _check_proxy(found, f"{variable} (environment)")

    def describe(self) -> str:
        """For reprs: whether a proxy is set (never its credentials) and how certificates are checked."""
        verify = "off" if self.verify is False else ("custom" if self.verify is not True else "on")
        proxy = redact(self.proxy) if self.proxy else ("from environment" if self._proxies.get("https")
                                                       or self._proxies.get("http") or self._proxies.get("all")
                                                       else None)
        return f"verify={verify}" + (f", proxy={proxy!r}" if proxy else "")
