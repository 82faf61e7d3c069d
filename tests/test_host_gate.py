"""Per-host politeness across the polls of one warm worker (no network, a fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from crawler.service.warm.politeness import HostBusy, HostGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_two_polls_of_one_host_never_overlap_and_the_second_waits_the_delay() -> None:
    clock = Clock()
    gate = HostGate(clock=clock)
    events: list[str] = []

    async def poll(name: str, hosts: list[str]) -> None:
        async with gate.hold(hosts, delay=0.2):
            events.append(f"{name} start")
            await asyncio.sleep(0.05)
            clock.now += 10.0  # the poll took ten seconds
            events.append(f"{name} end")

    async def scenario() -> float:
        await asyncio.gather(poll("a", ["tuoitre.vn"]), poll("b", ["cdn.x", "tuoitre.vn"]))
        return gate.waiting_for("tuoitre.vn")

    left = asyncio.run(scenario())
    assert events == ["a start", "a end", "b start", "b end"]
    assert left == pytest.approx(0.2)


def test_polls_of_different_hosts_run_side_by_side() -> None:
    gate = HostGate()
    running: list[int] = []
    most = 0

    async def poll(host: str) -> None:
        nonlocal most
        async with gate.hold([host], delay=0.0):
            running.append(1)
            most = max(most, len(running))
            await asyncio.sleep(0.05)
            running.pop()

    async def scenario() -> None:
        await asyncio.gather(*(poll(f"site{i}.vn") for i in range(5)))

    asyncio.run(scenario())
    assert most == 5


def test_failed_polls_back_off_exponentially_and_a_success_resets() -> None:
    clock = Clock()
    gate = HostGate(backoff_base=5.0, clock=clock)

    async def poll(failed: bool) -> None:
        async with gate.hold(["laodong.vn"], delay=1.0, max_wait=0.0) as outcome:
            outcome.failed = failed

    async def scenario() -> list[float]:
        waits = []
        for failed in (True, True, True, False):
            await poll(failed)
            waits.append(gate.waiting_for("laodong.vn"))
        return waits

    assert asyncio.run(scenario()) == [5.0, 10.0, 20.0, 1.0]


def test_a_host_held_longer_than_the_poll_may_wait_is_reported_busy() -> None:
    gate = HostGate()

    async def scenario() -> str:
        release = asyncio.Event()

        async def long_poll() -> None:
            async with gate.hold(["nhandan.vn"], delay=0.0):
                await release.wait()

        holder = asyncio.ensure_future(long_poll())
        await asyncio.sleep(0.01)
        try:
            async with gate.hold(["nhandan.vn"], delay=0.0, max_wait=0.05):
                return "ran"
        except HostBusy as exc:
            return str(exc)
        finally:
            release.set()
            await holder

    assert asyncio.run(scenario()) == "nhandan.vn was busy with another poll for 0.05 s"
