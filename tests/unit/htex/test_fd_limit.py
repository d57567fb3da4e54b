"""The interchange's file-descriptor budget (parsl/_htex/limits.py)."""
import errno
import logging
import resource

from parsl._htex import limits


def test_start_raises_the_soft_limit_to_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if hard != resource.RLIM_INFINITY and hard > 64:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard // 2), hard))
        got_soft, got_hard = limits.raise_nofile_limit()
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == got_soft
        if hard != resource.RLIM_INFINITY:
            assert got_soft == hard == got_hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_room_for_managers_follows_the_limit():
    assert limits.managers_within(1024) == (1024 - limits.RESERVED_FDS) // limits.FDS_PER_MANAGER
    assert limits.managers_within(100) == 0
    assert limits.managers_within(-1) > 10**9      # unlimited


def test_approaching_the_limit_and_failed_accepts_are_errors_that_name_the_fix(caplog, monkeypatch):
    budget = limits.DescriptorBudget()
    budget.soft, budget.hard, budget.room = 1024, 1024, 384
    with caplog.at_level(logging.ERROR, logger="parsl._htex.interchange"):
        budget.registered(100)
        assert not caplog.records
        budget.registered(350)
        budget.registered(351)                      # said once
        budget.accept_failed(errno.EMFILE)
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == 2
    assert "350 managers connected" in msgs[0] and "ulimit -Hn" in msgs[0]
    assert "Too many open files" in msgs[1] and "limit is 1024" in msgs[1]
