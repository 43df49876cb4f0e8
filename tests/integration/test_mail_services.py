"""Mail use cases on a real database: the member timeline, and one number accepted once."""

from __future__ import annotations

import threading
from datetime import timedelta

import crm
import points_engine
from common.clock import utcnow
from common.db import read_session
from common.errors import DomainError
from storefront_api import mail

DIRECTORY = crm.CrmMemberDirectory()


def _register(uow, phone: str) -> tuple[str, int]:
    with uow() as unit:
        member_no = crm.register_member(unit, crm.RegisterCommand(phone, "韩梅梅"))["member_no"]
    with uow() as unit:
        return member_no, crm.queries.active_member_id(unit.session, member_no)


def _accept(uow, number: str, external_id: str, member_no: str | None, hours: int, **changes):
    command = mail.AcceptanceCommand(
        external_id=external_id,
        tracking_no=number,
        service=changes.pop("service", "parcel"),
        fee_fen=changes.pop("fee_fen", 1500),
        accepted_at=utcnow() - timedelta(hours=hours),
        member=points_engine.MemberRef(member_no=member_no) if member_no else None,
    )
    channel = changes.pop("channel", "counter")
    with uow() as unit:
        return mail.accept_mailing(unit, DIRECTORY, channel, "SH-HP-0001", command).body


def test_member_activity_lists_the_members_mailings_newest_first(db, uow) -> None:
    member_no, member_id = _register(uow, "13900000011")
    other_no, _ = _register(uow, "13900000012")
    _accept(uow, "EE123456785CN", "C-1", member_no, hours=30, service="ems", fee_fen=2200)
    _accept(uow, "RA473124829GB", "C-2", member_no, hours=5, service="registered", fee_fen=800)
    _accept(uow, "CP000000005CN", "C-3", other_no, hours=4)
    _accept(uow, "LN000040000CN", "C-4", None, hours=3)
    with uow() as unit:
        mail.record_event(
            unit,
            "web",
            None,
            "ee123456785cn",
            mail.EventCommand("in_transit", "上海邮区中心局", utcnow() - timedelta(hours=20)),
        )

    with read_session(db.session_factory) as session:
        entries = mail.member_activity(session, member_id)

    assert [e.reference for e in entries] == ["RA473124829GB", "EE123456785CN"]
    assert {e.kind for e in entries} == {"mail"}
    assert [e.amount_fen for e in entries] == [-800, -2200]
    assert [e.points for e in entries] == [18, 32]
    assert [e.status for e in entries] == ["accepted", "in_transit"]
    assert all(e.channel == "counter" and e.title for e in entries)
    assert entries[0].as_dict()["occurred_at"].endswith("+00:00")


def test_two_counters_accepting_one_number_at_once_store_it_once(db, uow) -> None:
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def accept(external_id: str) -> None:
        start.wait()
        try:
            outcomes.append(_accept(uow, "EE123456785CN", external_id, None, hours=1))
        except DomainError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=accept, args=(f"C-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = [o for o in outcomes if isinstance(o, mail.TrackingNumberTaken)]
    accepted = [o for o in outcomes if isinstance(o, dict)]
    assert (len(accepted), len(taken)) == (1, 1), outcomes
    with read_session(db.session_factory) as session:
        assert len(mail.tracking(session, "EE123456785CN").events) == 1


def _scan(uow, status: str, hours: float) -> None:
    command = mail.EventCommand(status, "北京邮区中心局", utcnow() - timedelta(hours=hours))
    with uow() as unit:
        mail.record_event(unit, "distribution", None, "EE123456785CN", command)


def test_two_scans_of_one_item_at_once_are_both_kept_and_the_latest_in_time_counts(db, uow) -> None:
    _accept(uow, "EE123456785CN", "C-1", None, hours=5)
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def scan(status: str, hours: float) -> None:
        start.wait()
        try:
            _scan(uow, status, hours)
            outcomes.append(status)
        except DomainError as error:
            outcomes.append(error)

    # The later scan in time may well be recorded first: the status must not depend on it.
    threads = [
        threading.Thread(target=scan, args=args) for args in (("delivered", 1), ("in_transit", 3))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["delivered", "in_transit"]
    with read_session(db.session_factory) as session:
        view = mail.tracking(session, "EE123456785CN")
    assert view.status == "delivered"
    assert [e["status"] for e in view.events] == ["accepted", "in_transit", "delivered"]
    assert sorted(e["sequence"] for e in view.events) == [1, 2, 3]
