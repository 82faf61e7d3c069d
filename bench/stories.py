"""Benchmark of story assignment (not a test): ``python bench/stories.py [--stored 100000]``.

Fills a SQLite store (in a temporary folder) with ``--stored`` articles inside the 72 h
window, grouped the way the news is: three stories in four are carried by one outlet, the
others by 2 to 40 (rewrites of one text: a new lead, often a new ending, sometimes a
sentence dropped), and one story by 300 (the stress case below). The texts are made up
from the labelled set's syllables drawn with a Zipf law, so that common phrases recur in
unrelated articles as "Ủy ban nhân dân" does, plus a clause or two of boilerplate shared
across articles; stored ones are ~200 syllables (to fill quickly: the band keys and the
candidates are what matter). Then it assigns ``--new`` further articles the way the crawl
does -- fingerprint, candidates by band key, the decision and its writes, 100 per
transaction --: ~800 syllables each, every third a rewrite of a stored article (picked per
article, so that the stories carried by many outlets get more new copies, as they do).
It prints the cost per article against baselines measured in the same run:

* ``empty store``: the same assignments with nothing stored (the floor: fingerprint and
  writes alone);
* ``brute force``: the decision against every stored fingerprint (numpy over all
  signatures in memory) instead of the LSH lookup. It is timed in a pass of its own, after
  the assignments, beside the LSH lookup alone: scanning 77 MB of signatures between two
  assignments would evict what the next one has in the CPU caches.

Target: assignment (fingerprint + lookup + decision + writes) <= 2 ms per article, on
average, with 100,000 articles in the window. The commit is printed apart: the article's
own write pays it (one fsync per batch) with or without stories. The stress line assigns
``--stress`` new copies of the 300-outlet story (hundreds of candidates each); it shows
how the cost grows with a story's size and is not part of the target. The load average is
printed too: on a shared machine every figure grows with it. It also prints the labelled
set's pairwise precision and recall (tests/cases/stories.yaml), with and without the
figures check, and how many alerts its watches send with and without grouping.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the labelled set lives in tests/

from bench._scratch import scratch_databases  # noqa: E402
from pipelines.store.database import Store  # noqa: E402
from pipelines.store.schema import articles, stories, story_articles, story_bands  # noqa: E402
from pipelines.store.stories import assign_story, candidates, story_key  # noqa: E402
from pipelines.stories import decide as decide_module  # noqa: E402
from pipelines.stories.decide import decide  # noqa: E402
from pipelines.stories.fingerprint import fingerprint  # noqa: E402
from tests.stories_set import load, pair_score  # noqa: E402

NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
STRESS_SIZE = 300  # outlets of the stress story


class Writer:
    """Made-up news texts: sentences of Zipf-drawn syllables, boilerplate, rewrites."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        sentences, words = set(), set()
        for article in load():
            for sentence in article.text.replace("\n", " ").split(". "):
                if len(sentence.split()) > 12:
                    sentences.add(" ".join(sentence.split()[:12]))
                words.update(w.strip(",.:") for w in sentence.split())
        self.boilerplate = sorted(sentences)
        self.words = sorted(w for w in words if w)
        rng.shuffle(self.words)  # the Zipf ranks
        ranks = range(1, len(self.words) + 1)
        self.weights = list(itertools.accumulate(1 / rank for rank in ranks))

    def sentence(self) -> str:
        return " ".join(
            self.rng.choices(self.words, cum_weights=self.weights, k=self.rng.randint(12, 30))
        )

    def article(self, syllables: int) -> list[str]:
        """The sentences of a new text of about ``syllables`` syllables."""
        parts = self.rng.sample(self.boilerplate, self.rng.randint(0, 2))
        while sum(len(p.split()) for p in parts) < syllables:
            parts.append(self.sentence())
        self.rng.shuffle(parts)
        return parts

    def rewrite(self, parts: list[str]) -> list[str]:
        """Another outlet's version: a new lead, often a new ending, maybe a sentence less."""
        out = [self.sentence(), *parts[1:]]
        if self.rng.random() < 0.6:
            out[-1] = self.sentence()
        if len(out) > 5 and self.rng.random() < 0.3:
            del out[self.rng.randrange(1, len(out) - 1)]
        return out


def text_of(parts: list[str]) -> str:
    return ". ".join(parts) + "."


def story_sizes(count: int, rng: random.Random) -> Iterator[int]:
    """Outlets per story until ``count`` articles: the stress story, then 1 (three in four)
    or 2 to 40 (a Pareto tail)."""
    left = count
    if count >= 10 * STRESS_SIZE:
        yield STRESS_SIZE
        left -= STRESS_SIZE
    while left > 0:
        size = 1 if rng.random() < 0.75 else min(40, 1 + int(rng.paretovariate(1.0)))
        size = min(size, left)
        left -= size
        yield size


def fill(
    store: Store, count: int, writer: Writer, rng: random.Random
) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """``count`` stored articles in their stories, spread over the window. Returns every
    stored signature (for the brute-force baseline), the sentences of one stored article in
    fifty (to rewrite), and those of the stress story."""
    signatures, sample, stress = [], [], []
    rows, members, bands, heads = [], [], [], []
    started, n, keys = time.perf_counter(), 0, 0

    def flush() -> None:
        with store.begin() as conn:
            conn.execute(insert(articles), rows)
            conn.execute(insert(stories), heads)
            conn.execute(insert(story_articles), members)
            conn.execute(insert(story_bands), bands)
        for part in (rows, members, bands, heads):
            part.clear()

    for story_id, size in enumerate(story_sizes(count, rng), start=1):
        base = writer.article(200)
        if size == STRESS_SIZE:
            stress = base
        begins = NOW - timedelta(minutes=rng.randint(12 * 60, 72 * 60 - 1))
        times = sorted(begins + timedelta(minutes=rng.randint(0, 12 * 60)) for _ in range(size))
        for copy, at in enumerate(times):
            n += 1
            parts = base if copy == 0 else writer.rewrite(base)
            if n % 50 == 0:
                sample.append(parts)
            title, text = f"Tin số {n}", text_of(parts)
            fp = fingerprint(title, f"{title}\n{text}")
            signatures.append(fp.signature)
            url = f"https://bao{n % 40}.example/tin-{n}.html"
            rows.append(
                {
                    "id": n,
                    "url": url,
                    "source": f"bao{n % 40}",
                    "title": title,
                    "text": f"{title}\n{text}",
                    "content_hash": f"{n:064x}",
                    "fetched_at": at,
                    "flags": "",
                }
            )
            if copy == 0:
                heads.append(
                    {
                        "id": story_id,
                        "key": story_key(url),
                        "first_article_id": n,
                        "first_seen": at,
                        "last_seen": times[-1],
                        "articles": size,
                    }
                )
            members.append(
                {
                    "article_id": n,
                    "story_id": story_id,
                    "at": at,
                    "source": f"bao{n % 40}",
                    "signature": fp.signature_bytes(),
                    "size": fp.size,
                    "numbers": fp.numbers_text(),
                    "reason": "bench",
                }
            )
            bands.extend({"band": b, "article_id": n} for b in dict.fromkeys(fp.bands))
            keys += len(fp.bands)
        if len(rows) >= 2000:
            flush()
    if rows:
        flush()
    print(
        f"filled {count:,} articles in {story_id:,} stories ({keys:,} band keys) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return np.stack(signatures), sample, stress


def new_articles(
    count: int, sample: list[list[str]], writer: Writer, rng: random.Random
) -> list[tuple[str, str]]:
    """(title, text) of new articles: ~800 syllables, or every third a rewrite of one of
    ``sample`` (stored articles)."""
    out = []
    for n in range(count):
        rewrite = n % 3 == 0 and sample
        parts = writer.rewrite(rng.choice(sample)) if rewrite else writer.article(800)
        out.append((f"Bài mới {n}", text_of(parts)))
    return out


def assign_all(store: Store, batch: list[tuple[str, str]], first_id: int) -> dict[str, list[float]]:
    """Assign every article as the crawl does (100 per transaction); per-article times (ms)
    of the fingerprint and of the whole assignment (fingerprint, lookup, decision, writes;
    not the commit, which the article's own write pays anyway, printed apart). Also counts
    the articles that joined a story."""
    times: dict[str, list[float]] = {"fingerprint": [], "whole": [], "commit": []}
    joined = 0
    for start in range(0, len(batch), 100):
        with store.begin() as conn:
            for n, (title, text) in enumerate(batch[start : start + 100], start=start):
                article_id, doc = first_id + n, f"{title}\n{text}"
                url = f"https://moi.example/{article_id}.html"
                conn.execute(
                    insert(articles).values(
                        id=article_id,
                        url=url,
                        source="moi",
                        title=title,
                        text=doc,
                        content_hash=f"{article_id:064x}",
                        fetched_at=NOW,
                        flags="",
                    )
                )
                t0 = time.perf_counter()
                fp = fingerprint(title, doc)
                t1 = time.perf_counter()
                place = assign_story(conn, article_id, url, "moi", NOW, fp)
                t2 = time.perf_counter()
                joined += not place.started
                times["fingerprint"].append((t1 - t0) * 1000)
                times["whole"].append((t2 - t0) * 1000)
            t_commit = time.perf_counter()
        # The commit is shared with the article's own row, hits and alerts (one fsync per
        # batch of up to 100 articles): shown on its own, not counted in the assignment.
        times["commit"].append((time.perf_counter() - t_commit) * 1000 / 100)
    times["joined"] = [float(joined)]
    return times


def lookups(
    store: Store, batch: list[tuple[str, str]], brute: np.ndarray
) -> dict[str, list[float]]:
    """The lookup and decision alone (LSH in the store) and the brute-force baseline, per
    article (ms), in a read-only pass after the assignments (each article now also finds
    itself)."""
    times: dict[str, list[float]] = {"lsh": [], "brute": []}
    prints = [fingerprint(title, f"{title}\n{text}") for title, text in batch]
    with store.engine.connect() as conn:
        for fp in prints:
            t0 = time.perf_counter()
            decide(fp, NOW, candidates(conn, fp, NOW))
            times["lsh"].append((time.perf_counter() - t0) * 1000)
    for fp in prints:  # apart: its scans would evict the CPU caches of the lookups
        t0 = time.perf_counter()
        np.count_nonzero(brute == fp.signature, axis=1).argmax()
        times["brute"].append((time.perf_counter() - t0) * 1000)
    return times


def _line(label: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return (
        f"{label:<34} mean {statistics.fmean(values):6.2f} ms   median "
        f"{statistics.median(values):6.2f} ms   p95 {p95:6.2f} ms"
    )


def quality() -> None:
    """Pairwise precision/recall of the labelled set, with and without the figures check."""
    from pipelines.match.matcher import Matcher
    from pipelines.match.rules import parse_watch
    from pipelines.stories.memory import MemoryIndex

    labelled = load()
    labels = {a.id: a.story for a in labelled}

    def group() -> dict[str, str]:
        index, found = MemoryIndex(), {}
        for n, a in enumerate(labelled):
            d = index.assign(n, a.outlet, a.at, fingerprint(a.title, a.text))
            found[a.id] = d.story or f"st-{n}"
        return found

    found = group()
    score = pair_score(labels, found)
    saved = decide_module.NUMBERS_COMPARED
    decide_module.NUMBERS_COMPARED = 10**9  # never compare the figures
    try:
        plain = pair_score(labels, group())
    finally:
        decide_module.NUMBERS_COMPARED = saved
    watches = [
        parse_watch("hai-ba-trung", {"any": ["quận Hai Bà Trưng", "Quận ủy Hai Bà Trưng"]}),
        parse_watch("bach-mai", {"any": ["phường Bạch Mai", "phố Bạch Mai"]}),
        parse_watch("nguyen-van-phong", {"any": ["Nguyễn Văn Phong"]}),
        parse_watch("giai-phong", {"any": ["đường Giải Phóng"]}),
        parse_watch("vanh-dai-4", {"any": ["Vành đai 4"]}),
        parse_watch("gia-vang", {"any": ["giá vàng"]}),
    ]
    matcher = Matcher.compile(watches)
    hits = [
        (m.watch.name, a.id)
        for a in labelled
        for m in matcher.match(a.text, title_length=a.title_length)
    ]
    print(
        f"\n== labelled set: {len(labelled)} articles, {len(set(labels.values()))} stories, "
        f"{len({a.outlet for a in labelled})} outlets, {score.true_pairs} same-story pairs =="
    )
    print(
        f"pairwise precision {score.precision:.3f}  recall {score.recall:.3f}  "
        "(target >= 0.95 each)"
    )
    print(f"without the figures check: precision {plain.precision:.3f}  recall {plain.recall:.3f}")
    print(
        f"alerts for {len(watches)} watches: {len(hits)} without grouping, "
        f"{len({(w, found[a]) for w, a in hits})} with stories"
    )


def measure(empty: Store, full: Store, engine: str, args: argparse.Namespace) -> None:
    """Fill ``full``, then assign the new articles to ``empty`` and ``full``; print it all."""
    rng = random.Random(args.seed)
    writer = Writer(rng)
    print(f"\n== {engine}: assignment with {args.stored:,} stored articles in the window ==")
    signatures, sample, stress = fill(full, args.stored, writer, rng)
    if engine == "postgresql":
        with full.begin() as conn:
            # The stories were written with their ids: move the sequence past them.
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('stories', 'id'), max(id)) FROM stories")
            )
            conn.execute(text("ANALYZE"))  # what autovacuum does for a real store
    batch = new_articles(args.new, sample, writer, rng)
    stress_batch = [(f"Bài mới {n}", text_of(writer.rewrite(stress))) for n in range(args.stress)]
    copies = len(range(0, args.new, 3))
    gc.collect()
    gc.freeze()
    floor = assign_all(empty, batch, 10_000_000)
    full_run = assign_all(full, batch, 20_000_000)
    alone = lookups(full, batch, signatures)
    gc.unfreeze()
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(_line("fingerprint (once per article)", full_run["fingerprint"]))
    print(_line("lookup+decision, LSH in the store", alone["lsh"]))
    print(_line("lookup+decision, brute force", alone["brute"]) + "   (baseline)")
    print(_line("whole assignment, empty store", floor["whole"]) + "   (baseline)")
    mean = statistics.fmean(full_run["whole"])
    verdict = "ok" if mean <= 2.0 else "MISSED"
    print(
        _line(f"whole assignment, {args.stored // 1000}k stored", full_run["whole"])
        + f"   target mean <= 2 ms: {verdict}"
    )
    print(_line("commit, per article", full_run["commit"]) + "   (paid with or without)")
    print(
        f"{int(full_run['joined'][0])} of the {args.new} new articles joined a story "
        f"({copies} were rewrites of stored ones)"
    )
    if stress and args.stress:
        loaded = assign_all(full, stress_batch, 30_000_000)
        print(
            _line(f"stress: copies of a {STRESS_SIZE}-outlet story", loaded["whole"])
            + f"   ({int(loaded['joined'][0])} of {args.stress} joined it)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=300)
    parser.add_argument("--stress", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server where two scratch databases may be created",
    )
    args = parser.parse_args()
    quality()
    if "sqlite" in args.engines:
        with tempfile.TemporaryDirectory() as tmp:
            empty = Store.for_data_dir(Path(tmp) / "empty")
            full = Store.for_data_dir(Path(tmp) / "full")
            for store in (empty, full):
                store.migrate()
            measure(empty, full, "sqlite", args)
            empty.close()
            full.close()
    if "postgresql" in args.engines:
        with scratch_databases(args.postgres, 2) as urls:
            if urls:
                empty, full = (Store(url) for url in urls)
                for store in (empty, full):
                    store.migrate()
                measure(empty, full, "postgresql", args)
                empty.close()
                full.close()


if __name__ == "__main__":
    main()
