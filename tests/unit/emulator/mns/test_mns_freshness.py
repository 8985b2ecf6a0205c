"""MNS refuses a request whose Date is more than 15 minutes from the real clock (TimeExpired),
whatever the emulated clock says. The real aliyun-mns-sdk with its clock set back to 2020."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from mns import mns_client
from mns.account import Account
from mns.mns_exception import MNSServerException
from mns.queue import Message, QueueMeta

from imagedrop_emulator import FakeCloud

STALE = time.gmtime(1_600_000_000)  # 2020-09-13T12:26:40Z


def test_a_stale_date_is_refused(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = account.get_queue("q")
    queue.create(QueueMeta())
    stale_clock = SimpleNamespace(strftime=time.strftime, gmtime=lambda *a: STALE, time=time.time,
                                  sleep=time.sleep)
    monkeypatch.setattr(mns_client, "time", stale_clock)
    with pytest.raises(MNSServerException) as err:
        queue.send_message(Message("from 2020"))
    assert err.value.type == "TimeExpired"
    assert "Sun, 13 Sep 2020 12:26:40 GMT" in err.value.message
    monkeypatch.undo()
    assert queue.get_attributes().active_messages == 0
    queue.send_message(Message("now"))
    assert queue.receive_message().message_body == b"now"


def test_the_emulated_clock_running_ahead_changes_nothing(account: Account,
                                                         mns_cloud: FakeCloud) -> None:
    mns_cloud.clock.advance(30 * 24 * 3600)
    queue = account.get_queue("q2")
    queue.create(QueueMeta())
    queue.send_message(Message("fine"))
    assert queue.receive_message().message_body == b"fine"
