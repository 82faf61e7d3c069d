"""Story state in the store: the story of each new article, and the stories of a period.

An article's candidates are the articles within the time window that share an LSH band
key with it (one indexed lookup on ``story_bands``); :func:`pipelines.stories.decide.decide`
picks the story, and the article's fingerprint, story and reason are written in the same
transaction as the article. Nothing lives only in memory: a restart, or another crawl
process, finds the same stories.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    Select,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from pipelines.store.schema import (
    alerts,
    articles,
    stories,
    story_alerts,
    story_articles,
    story_bands,
    story_outlets,
)
from pipelines.stories.decide import (
    JOIN_AT,
    WINDOW,
    Decision,
    Neighbour,
    decide,
    figures_differ,
    similarities,
)
from pipelines.stories.fingerprint import Fingerprint, fingerprint

__all__ = [
    "StoryPlace",
    "adopt_stored_articles",
    "assign_story",
    "candidates",
    "lock_stories",
    "prune_bands",
    "story_ids",
    "story_key",
]


def story_key(first_url: str) -> str:
    """The public id of the story an article starts (``st_`` + 16 hex digits)."""
    return "st_" + hashlib.sha256(first_url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoryPlace:
    """The story an article was put in, and why."""

    story_id: int
    key: str
    first_seen: datetime
    articles: int
    decision: Decision

    @property
    def started(self) -> bool:
        """Whether the article started the story."""
        return self.decision.story is None


# Built once: compiling a statement (and coercing 64 band keys into it) would cost more
# than running it. Only what the decision needs: a popular story can bring hundreds of
# rows, and each column converted (a date parsed) costs on every one of them. The band
# keys go in as one list: SQLite expands it into 64 parameters; PostgreSQL takes one array
# (`= ANY`, one bitmap index scan; 64 parameters made it plan a new statement, ~5 times
# slower, on every article). The articles sharing a band are found first, always: on
# PostgreSQL a MATERIALIZED CTE says so, because before its statistics know how many
# articles the window holds (a new database, a bulk import) the planner would otherwise
# walk every article of the window and probe the band index for each.
def _candidates_statement(postgresql: bool) -> Select[Any]:
    columns = (
        story_articles.c.article_id,
        story_articles.c.at,
        story_articles.c.source,
        story_articles.c.signature,
        story_articles.c.size,
        story_articles.c.numbers,
        story_articles.c.story_id,
        stories.c.key,
    )
    in_window = (
        story_articles.c.at >= bindparam("since"),
        story_articles.c.at <= bindparam("until"),
    )
    if not postgresql:
        banded = story_bands.c.band.in_(bindparam("bands", expanding=True))
        return (
            select(*columns)
            .join(stories, stories.c.id == story_articles.c.story_id)
            .where(
                story_articles.c.article_id.in_(select(story_bands.c.article_id).where(banded)),
                *in_window,
            )
        )
    keys = bindparam("bands", type_=ARRAY(BigInteger))
    sharing = (
        select(story_bands.c.article_id)
        .where(story_bands.c.band == any_(keys))
        .distinct()
        .cte("sharing")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(*columns)
        .select_from(sharing)
        .join(story_articles, story_articles.c.article_id == sharing.c.article_id)
        .join(stories, stories.c.id == story_articles.c.story_id)
        .where(*in_window)
    )


_CANDIDATES = {False: _candidates_statement(False), True: _candidates_statement(True)}
# An article's member row and band keys. On PostgreSQL one statement: the member row in a
# data-modifying CTE, the band keys from one array (unnest) -- one round trip, not two or
# 65. On SQLite the keys go straight to the driver's executemany (SQLAlchemy's per-row
# parameter handling would cost more than SQLite's inserts).
_PG_MEMBER = (
    insert(story_articles)
    .values({column.name: bindparam(column.name) for column in story_articles.columns})
    .returning(story_articles.c.article_id)
    .cte("member")
)
_PG_MEMBER_AND_BANDS = (
    insert(story_bands)
    .from_select(
        ["band", "article_id"],
        select(func.unnest(bindparam("bands", type_=ARRAY(BigInteger))), _PG_MEMBER.c.article_id),
    )
    .add_cte(_PG_MEMBER)
)
_SQLITE_BANDS = "INSERT INTO story_bands (band, article_id) VALUES (?, ?)"
_NEW_STORY = insert(stories).returning(stories.c.id)
# The story's first and last times widen to the article's; what it became comes back.
_GROW_STORY = (
    update(stories)
    .where(stories.c.id == bindparam("story"))
    .values(
        articles=stories.c.articles + 1,
        first_seen=case(
            (stories.c.first_seen > bindparam("at"), bindparam("at")),
            else_=stories.c.first_seen,
        ),
        last_seen=case(
            (stories.c.last_seen < bindparam("at"), bindparam("at")),
            else_=stories.c.last_seen,
        ),
    )
    .returning(stories.c.first_seen, stories.c.articles)
)
_MEMBER = insert(story_articles)


def _shortlist(
    conn: Connection, fingerprint: Fingerprint, at: datetime, window: timedelta
) -> tuple[list[Neighbour], dict[str, int]]:
    """The candidates :func:`~pipelines.stories.decide.decide` needs to see, and their
    stories' database ids by key.

    Every stored article within ``window`` that shares a band is scored at once (numpy),
    and ranked as ``decide`` ranks them. ``decide`` takes the first one at least
    :data:`JOIN_AT` similar whose figures agree, and when there is none it names the first
    one: only the ranks up to that one become :class:`Neighbour` objects (usually one),
    so its decision is the one it would take over all of them. A story carried by
    hundreds of outlets brings hundreds of candidates; building each would cost more than
    the rest of the assignment.
    """
    params = {"bands": fingerprint.bands, "since": at - window, "until": at + window}
    rows = conn.execute(_CANDIDATES[conn.dialect.name == "postgresql"], params).all()
    if not rows:
        return [], {}
    signatures = np.frombuffer(b"".join(row.signature for row in rows), dtype="<u4")
    scores = similarities(
        fingerprint,
        signatures.reshape(len(rows), -1),
        np.fromiter((row.size for row in rows), dtype=np.int64, count=len(rows)),
    ).tolist()
    floor = min(JOIN_AT, max(scores))
    ranked = sorted(
        (i for i, score in enumerate(scores) if score >= floor),
        key=lambda i: (-scores[i], rows[i].at, rows[i].article_id),
    )
    shortlist = []
    for i in ranked:
        shortlist.append(_neighbour(rows[i]))
        if scores[i] < JOIN_AT or figures_differ(fingerprint, shortlist[-1].fingerprint) is None:
            break
    else:
        del shortlist[1:]  # every one vetoed: decide names the first
    return shortlist, {rows[i].key: rows[i].story_id for i in ranked[: len(shortlist)]}


def candidates(
    conn: Connection, fingerprint: Fingerprint, at: datetime, window: timedelta = WINDOW
) -> list[Neighbour]:
    """The stored articles within ``window`` of ``at`` that share a band with the article
    and could be its nearest neighbour (see :func:`_shortlist`)."""
    return _shortlist(conn, fingerprint, at, window)[0]


def _neighbour(row: Any) -> Neighbour:
    return Neighbour(
        row.article_id,
        row.key,
        row.at,
        row.source,
        Fingerprint.from_stored(row.signature, row.size, row.numbers),
    )


# pg_advisory_xact_lock key of story assignment: "nwstory" in ASCII.
_STORY_LOCK = int.from_bytes(b"nwstory", "big")
_LOCKED = "newswatch_stories_locked"  # Connection.info: the transaction that holds it


def lock_stories(conn: Connection) -> None:
    """Wait until no other transaction is putting articles in stories, and keep the others
    waiting until this one ends.

    Two crawls recording copies of one brand-new story at the same moment would each see
    no story yet -- the other's is not committed -- and start two. SQLite has one writer
    at a time already; on PostgreSQL a transaction-level advisory lock does the same for
    the writes that place articles (each crawl's batch is short: it holds cleaned pages
    only). Taken before the transaction's first write, so two recording transactions never
    wait on each other's rows while holding it; a batch takes it once, before its first
    savepoint (a lock taken inside one would be released if that savepoint rolled back).
    """
    if conn.dialect.name != "postgresql":
        return
    root = conn.get_transaction()
    if root is not None and conn.info.get(_LOCKED) is root:
        return  # taken already in this transaction (not in a savepoint that may roll back)
    conn.execute(select(func.pg_advisory_xact_lock(_STORY_LOCK)))
    if not conn.in_nested_transaction():
        conn.info[_LOCKED] = root


def assign_story(
    conn: Connection,
    article_id: int,
    url: str,
    source: str,
    at: datetime,
    fingerprint: Fingerprint,
    window: timedelta = WINDOW,
) -> StoryPlace:
    """Put a just-stored article in its story (a new one when nothing is near enough)."""
    neighbours, story_ids = _shortlist(conn, fingerprint, at, window)
    decision = decide(fingerprint, at, neighbours, window)
    if decision.story is None:
        key, first_seen, count = story_key(url), at, 1
        new = {"key": key, "first_article_id": article_id, "first_seen": at, "last_seen": at}
        story_id = int(conn.execute(_NEW_STORY, new).scalar_one())
    else:
        key, story_id = decision.story, story_ids[decision.story]
        grown = conn.execute(_GROW_STORY, {"story": story_id, "at": at}).one()
        first_seen, count = grown.first_seen, grown.articles
    nearest = decision.nearest
    member = {
        "article_id": article_id,
        "story_id": story_id,
        "at": at,
        "source": source,
        "signature": fingerprint.signature_bytes(),
        "size": fingerprint.size,
        "numbers": fingerprint.numbers_text(),
        "nearest_article_id": nearest.article if nearest else None,
        "similarity": decision.similarity if nearest else None,
        "reason": decision.reason,
    }
    keys = list(dict.fromkeys(fingerprint.bands))
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_MEMBER_AND_BANDS, {**member, "bands": keys})
    else:
        conn.execute(_MEMBER, member)
        conn.exec_driver_sql(_SQLITE_BANDS, [(key, article_id) for key in keys])
    return StoryPlace(story_id, key, first_seen, count, decision)


def prune_bands(conn: Connection, now: datetime, window: timedelta = WINDOW) -> int:
    """Forget the band keys of articles older than twice the window (nothing new joins
    them: they only cost space) and of deleted articles; their stories and fingerprints
    stay. Returns how many band keys were deleted."""
    before = now - 2 * window
    recent = select(story_articles.c.article_id).where(story_articles.c.at >= before)
    result = conn.execute(delete(story_bands).where(story_bands.c.article_id.not_in(recent)))
    return int(result.rowcount or 0)


def story_ids(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    """The database ids of stories by public key."""
    rows = conn.execute(select(stories.c.key, stories.c.id).where(stories.c.key.in_(keys)))
    return {row.key: row.id for row in rows}


def adopt_stored_articles(conn: Connection, chunk: int = 500) -> int:
    """Put every stored article that has no story into one, oldest first, and make the
    first alert of each (watch, story) that story's alert (the migration to stories).
    Returns how many articles were placed."""
    when = func.coalesce(articles.c.published, articles.c.fetched_at)
    placed = select(story_articles.c.article_id)
    ids = list(
        conn.execute(
            select(articles.c.id).where(articles.c.id.not_in(placed)).order_by(when, articles.c.id)
        ).scalars()
    )
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rows = {
            row.id: row
            for row in conn.execute(
                select(
                    articles.c.id,
                    articles.c.url,
                    articles.c.source,
                    articles.c.title,
                    articles.c.text,
                    articles.c.published,
                    articles.c.fetched_at,
                ).where(articles.c.id.in_(part))
            )
        }
        for article_id in part:
            row = rows[article_id]
            at = row.published or row.fetched_at
            assign_story(
                conn, article_id, row.url, row.source, at, fingerprint(row.title, row.text)
            )
    _adopt_alerts(conn)
    return len(ids)


def _adopt_alerts(conn: Connection) -> None:
    alerted: set[tuple[str, int]] = set()
    outlets: set[tuple[str, int, str]] = set()
    rows = conn.execute(
        select(alerts.c.id, alerts.c.watch, story_articles.c.story_id, story_articles.c.source)
        .join(story_articles, story_articles.c.article_id == alerts.c.article_id)
        .order_by(alerts.c.created_at, alerts.c.id)
    ).all()
    for row in rows:
        if (row.watch, row.story_id) not in alerted:
            alerted.add((row.watch, row.story_id))
            conn.execute(
                insert(story_alerts).values(watch=row.watch, story_id=row.story_id, alert_id=row.id)
            )
        if (row.watch, row.story_id, row.source) not in outlets:
            outlets.add((row.watch, row.story_id, row.source))
            conn.execute(
                insert(story_outlets).values(
                    watch=row.watch, story_id=row.story_id, source=row.source, alert_id=row.id
                )
            )
