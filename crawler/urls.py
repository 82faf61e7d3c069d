"""URL canonicalisation: one spelling per article, so "already stored" is a lookup.

w3lib does the general work (percent-encoding, query order, fragments); we add what news
sites need on top: tracking parameters dropped, default ports dropped, and host aliases
(``tuoitrethudo.com.vn`` is ``tuoitrethudo.vn``) mapped to the source's primary host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

if TYPE_CHECKING:
    from crawler.config import SourceConfig

__all__ = ["TRACKING_PARAMS", "UrlCanon", "source_canon"]

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "zarsrc",
        "zacc",
        "gidzl",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "itm_source",
        "itm_medium",
        "itm_campaign",
        "_ga",
        "mc_cid",
        "mc_eid",
        "cmpid",
        "ref",
        "refer",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlCanon:
    """Canonicalises URLs of one source (its primary host and declared aliases)."""

    def __init__(self, primary: str | None, aliases: Iterable[str] = ()) -> None:
        self.primary = (primary or "").lower()
        self.aliases: Mapping[str, str] = {a.lower(): self.primary for a in aliases if primary}

    def __call__(self, url: str) -> str:
        parts = urlsplit(canonicalize_url(url.strip(), keep_fragments=False))
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
        host = self._host(host)
        netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
        query = urlencode(
            [
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
            ]
        )
        return urlunsplit((scheme, netloc, parts.path or "/", query, ""))

    def _host(self, host: str) -> str:
        # "www." in front of the site or of an alias is the same site.
        bare = host.removeprefix("www.")
        if bare == self.primary:
            return self.primary
        return self.aliases.get(host) or self.aliases.get(bare) or host

    def same_site(self, url: str) -> bool:
        """Whether ``url`` is on the primary host or one of its aliases."""
        return self._host((urlsplit(url).hostname or "").lower()) == self.primary


def source_canon(source: SourceConfig) -> UrlCanon:
    """The canonicaliser of a source: its home's host (else its first URL's) is primary."""
    first = source.home or (source.feeds + source.sitemaps + source.listings)[0]
    return UrlCanon(urlsplit(first).hostname, source.aliases)
