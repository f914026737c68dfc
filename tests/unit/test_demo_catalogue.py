"""The demo catalogue loads into a fresh database and is consistent."""
from decimal import Decimal

from sqlalchemy import func, select

from webapp import demo_catalogue
from webapp.extensions import db
from webapp.models import LabourOperation, LabourRate, MaintenanceItem, Part, StockMovement


def _two_places(value):
    return isinstance(value, Decimal) and value == value.quantize(Decimal("0.01")) and value >= 0


def test_load_into_fresh_db(app, factory):
    site = factory.site(code="bj01")
    assert demo_catalogue.load(site) is True
    db.session.commit()
    db.session.expire_all()

    ops = db.session.scalars(select(LabourOperation).where(LabourOperation.site_id == site.id)).all()
    parts = db.session.scalars(select(Part).where(Part.site_id == site.id)).all()
    items = db.session.scalars(select(MaintenanceItem).where(MaintenanceItem.site_id == site.id)).all()
    rates = {r.kind: r.rate for r in db.session.scalars(select(LabourRate).where(LabourRate.site_id == site.id))}
    assert len(ops) >= 25 and len(parts) >= 25 and len(items) >= 4
    assert rates == {"default": Decimal("180.00"), "bodywork": Decimal("220.00"),
                     "paint": Decimal("260.00"), "diagnosis": Decimal("200.00")}

    by_code = {op.name_zh: op for op in ops}
    assert by_code["更换机油机滤"].hours == Decimal("0.50")
    assert by_code["四轮定位"].hours == Decimal("1.00")
    assert by_code["故障诊断"].kind == "diagnosis"
    assert any(op.kind == "paint" for op in ops)
    assert len({op.code for op in ops}) == len(ops) and len({p.number for p in parts}) == len(parts)
    assert all(op.name_zh and op.name_en and Decimal("0.1") <= op.hours <= 99 for op in ops)

    for p in parts:
        assert _two_places(p.unit_price), p.number
        assert p.name_zh and p.name_en and p.reserved == 0
    assert all(_two_places(r) for r in rates.values())
    assert any(p.on_hand == 0 for p in parts), "some parts are short, to show it"

    # Opening stock is explained by receipts.
    for p in parts:
        received = db.session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                                     .where(StockMovement.part_id == p.id, StockMovement.kind == "receipt"))
        assert Decimal(str(received)) == p.on_hand, p.number

    op_ids = {op.id for op in ops}
    part_ids = {p.id for p in parts}
    for item in items:
        assert item.operation_id in op_ids
        assert item.part_id is None or (item.part_id in part_ids and item.part_quantity > 0)
        assert item.every_km or item.every_months
    oil = [i for i in items if i.operation.name_zh == "更换机油机滤" and i.make is None]
    assert {(i.every_km, i.every_months) for i in oil} == {(5000, 6)} and len(oil) == 2

    assert demo_catalogue.load(site) is False   # once per site
