"""The words and dates of alert texts, in Vietnamese (the default) or English.

Everything a person reads in an alert that is not article text — the email subject of a
digest, labels such as "Nguồn" / "Source", the footer, the time of publication — comes from
here, chosen by the channel's ``language`` (``channels.yaml``: ``defaults.language`` or a
channel's own ``language``). Vietnamese dates are day first, as the papers print them
(``14/01/2022 10:30``); English ones spell the month (``14 Jan 2022, 10:30``), which no
reader can take for the 1st of February. Month names are written here rather than taken
from ``strftime("%b")``, which follows the process locale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Language", "date_text", "words"]

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")
DEFAULT_LANGUAGE: Language = "vi"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "alert": "Cảnh báo",
        "source": "Nguồn",
        "published": "Đăng lúc",
        "new_articles": "{n} bài mới",
        "watches": "Theo dõi",
        "more": "và {n} bài khác",
        "test_label": "Tin thử nghiệm",
    },
    "en": {
        "alert": "Alert",
        "source": "Source",
        "published": "Published",
        "new_articles": "{n} new articles",
        "watches": "Watches",
        "more": "and {n} more",
        "test_label": "Test alert",
    },
}


def words(language: str) -> dict[str, str]:
    """The labels of one language (Vietnamese for anything unknown)."""
    return _WORDS.get(language, _WORDS[DEFAULT_LANGUAGE])


def date_text(local: datetime, language: str) -> str:
    """A local time as readers of ``language`` write it: ``14/01/2022 10:30`` (vi) or
    ``14 Jan 2022, 10:30`` (en)."""
    if language == "en":
        return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{local:%d/%m/%Y %H:%M}"
