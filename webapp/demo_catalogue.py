"""A realistic demo catalogue for one site: labour operations (工时项目), labour rates, parts
(配件) with stock, and the maintenance schedule (保养项目). Prices in yuan, without tax.

``load(site)`` adds it to the session and flushes (the caller commits); it does nothing and
returns False when the site has a catalogue already."""
from decimal import Decimal

from sqlalchemy import select

from .extensions import db
from .models import LabourOperation, LabourRate, MaintenanceItem, Part, StockMovement

D = Decimal

# code, 中文, English, hours, kind
OPERATIONS = [
    ("M001", "更换机油机滤", "Change engine oil and oil filter", "0.50", "mechanical"),
    ("M002", "更换空气滤清器", "Replace air filter", "0.30", "mechanical"),
    ("M003", "更换空调滤清器", "Replace cabin air filter", "0.30", "mechanical"),
    ("M004", "更换火花塞", "Replace spark plugs", "0.80", "mechanical"),
    ("M005", "更换刹车片(前)", "Replace front brake pads", "1.20", "mechanical"),
    ("M006", "更换刹车片(后)", "Replace rear brake pads", "1.20", "mechanical"),
    ("M007", "更换刹车盘(前)", "Replace front brake discs", "1.50", "mechanical"),
    ("M008", "更换刹车油", "Replace brake fluid", "0.80", "mechanical"),
    ("M009", "更换变速箱油", "Replace transmission fluid", "1.00", "mechanical"),
    ("M010", "更换防冻液", "Replace coolant", "0.80", "mechanical"),
    ("M011", "四轮定位", "Wheel alignment", "1.00", "mechanical"),
    ("M012", "轮胎动平衡(四轮)", "Wheel balancing (four wheels)", "0.60", "mechanical"),
    ("M013", "轮胎换位", "Tyre rotation", "0.40", "mechanical"),
    ("M014", "更换轮胎(单条)", "Replace tyre (one)", "0.30", "mechanical"),
    ("M015", "更换正时皮带", "Replace timing belt", "3.00", "mechanical"),
    ("M016", "更换减震器(前,单侧)", "Replace front shock absorber (one side)", "1.50", "mechanical"),
    ("M017", "清洗节气门", "Clean throttle body", "0.60", "mechanical"),
    ("M018", "更换雨刮片", "Replace wiper blades", "0.20", "mechanical"),
    ("E001", "更换蓄电池", "Replace battery", "0.40", "electrical"),
    ("E002", "空调系统检测", "Air-conditioning system check", "0.80", "electrical"),
    ("E003", "空调加注冷媒", "Air-conditioning refrigerant refill", "0.70", "electrical"),
    ("E004", "更换大灯灯泡", "Replace headlamp bulb", "0.30", "electrical"),
    ("E005", "更换发电机", "Replace alternator", "2.00", "electrical"),
    ("D001", "故障诊断", "Fault diagnosis", "1.00", "diagnosis"),
    ("D002", "电脑检测(读取故障码)", "OBD scan (read fault codes)", "0.50", "diagnosis"),
    ("B001", "钣金修复(每幅)", "Panel beating (per panel)", "2.00", "bodywork"),
    ("B002", "更换前保险杠", "Replace front bumper", "1.50", "bodywork"),
    ("P001", "钣金喷漆(每幅)", "Paint (per panel)", "3.00", "paint"),
    ("P002", "局部补漆", "Paint touch-up (spot repair)", "1.00", "paint"),
    ("P003", "保险杠喷漆", "Paint bumper", "2.50", "paint"),
]

RATES = [("default", "180.00"), ("bodywork", "220.00"), ("paint", "260.00"), ("diagnosis", "200.00")]

# number, 中文, English, unit price, on hand, lead days
PARTS = [
    ("OIL-5W30-4L", "机油 5W-30 全合成 4L", "Engine oil 5W-30 fully synthetic 4 L", "368.00", "24", 2),
    ("OIL-0W20-4L", "机油 0W-20 全合成 4L", "Engine oil 0W-20 fully synthetic 4 L", "398.00", "12", 2),
    ("OIL-1L", "机油 5W-30 1L(补充)", "Engine oil 5W-30 1 L (top-up)", "98.00", "30", 2),
    ("FLT-OIL-01", "机油滤清器", "Oil filter", "58.00", "40", 2),
    ("FLT-AIR-01", "空气滤清器", "Air filter", "128.00", "15", 2),
    ("FLT-CAB-01", "空调滤清器", "Cabin air filter", "98.00", "18", 2),
    ("FLT-CAB-02", "空调滤清器(活性炭)", "Cabin air filter (activated carbon)", "168.00", "0", 5),
    ("FLT-FUEL-01", "燃油滤清器", "Fuel filter", "186.00", "6", 3),
    ("BRK-PAD-F", "前刹车片", "Front brake pads (set)", "460.00", "8", 3),
    ("BRK-PAD-R", "后刹车片", "Rear brake pads (set)", "380.00", "0", 4),
    ("BRK-DSC-F", "前刹车盘", "Front brake disc", "520.00", "4", 5),
    ("BRK-FLUID-1L", "刹车油 DOT4 1L", "Brake fluid DOT4 1 L", "88.00", "20", 2),
    ("WIP-SET-01", "雨刮片(一对)", "Wiper blades (pair)", "168.00", "10", 2),
    ("SPK-PLUG-01", "火花塞(铱金)", "Spark plug (iridium)", "95.00", "32", 3),
    ("BAT-60AH", "蓄电池 12V 60Ah", "Battery 12 V 60 Ah", "780.00", "3", 3),
    ("BAT-70AH", "蓄电池 12V 70Ah(启停)", "Battery 12 V 70 Ah (start-stop)", "1280.00", "0", 5),
    ("ATF-1L", "变速箱油 ATF 1L", "Transmission fluid ATF 1 L", "118.00", "3", 3),   # low: tomorrow's booking is short
    ("COOL-4L", "防冻液 -35℃ 4L", "Coolant -35 °C 4 L", "138.00", "10", 2),
    ("AC-R134A", "空调冷媒 R134a 500g", "A/C refrigerant R134a 500 g", "160.00", "6", 3),
    ("TYR-205-55R16", "轮胎 205/55 R16", "Tyre 205/55 R16", "620.00", "8", 3),
    ("TYR-225-45R18", "轮胎 225/45 R18", "Tyre 225/45 R18", "980.00", "0", 7),
    ("BLT-TIMING-KIT", "正时皮带套件", "Timing belt kit", "1350.00", "1", 7),
    ("BLT-AUX-01", "发电机皮带", "Auxiliary (alternator) belt", "210.00", "4", 3),
    ("SHK-FRONT-01", "前减震器", "Front shock absorber", "890.00", "2", 5),
    ("BLB-H7", "大灯灯泡 H7", "Headlamp bulb H7", "65.00", "20", 2),
    ("CLN-THROTTLE", "节气门清洗剂", "Throttle body cleaner", "45.00", "12", 2),
    ("ALT-REMAN-01", "发电机(再制造)", "Alternator (remanufactured)", "2380.00", "0", 10),
    ("BMP-FRONT-01", "前保险杠(未喷漆)", "Front bumper (unpainted)", "1650.00", "1", 10),
    ("PNT-BASE-1L", "底色漆 1L", "Base coat paint 1 L", "420.00", "5", 4),
    ("WASH-FLUID-2L", "玻璃水 2L", "Screen wash 2 L", "25.00", "48", 1),
]

# make, model, operation code, part number, part quantity, every km, every months
MAINTENANCE = [
    (None, None, "M001", "OIL-5W30-4L", "1", 5000, 6),
    (None, None, "M001", "FLT-OIL-01", "1", 5000, 6),
    (None, None, "M002", "FLT-AIR-01", "1", 20000, 24),
    (None, None, "M003", "FLT-CAB-01", "1", 20000, 12),
    (None, None, "M008", "BRK-FLUID-1L", "1", 40000, 24),
    (None, None, "M011", None, None, 20000, None),
    (None, None, "M013", None, None, 10000, None),
    (None, None, "M004", "SPK-PLUG-01", "4", 40000, 48),
    (None, None, "M009", "ATF-1L", "4", 60000, 48),
    (None, None, "M010", "COOL-4L", "1", 60000, 48),
    (None, None, "M018", "WIP-SET-01", "1", None, 12),
    ("Toyota", "Camry", "M001", "OIL-0W20-4L", "1", 10000, 12),
    ("Toyota", "Camry", "M015", "BLT-TIMING-KIT", "1", 100000, 72),
]


def load(site, user=None) -> bool:
    """Add the demo catalogue to ``site``. Returns False when it has labour operations already."""
    if db.session.scalar(select(LabourOperation.id).where(LabourOperation.site_id == site.id).limit(1)):
        return False
    ops = {}
    for code, zh, en, hours, kind in OPERATIONS:
        ops[code] = LabourOperation(site_id=site.id, code=code, name_zh=zh, name_en=en, hours=D(hours), kind=kind)
        db.session.add(ops[code])
    for kind, rate in RATES:
        db.session.add(LabourRate(site_id=site.id, kind=kind, rate=D(rate)))
    parts = {}
    for number, zh, en, price, on_hand, lead in PARTS:
        parts[number] = Part(site_id=site.id, number=number, name_zh=zh, name_en=en, unit_price=D(price),
                             on_hand=D(on_hand), reserved=D("0"), lead_days=lead)
        db.session.add(parts[number])
    db.session.flush()
    for number, part in parts.items():
        if part.on_hand > 0:   # opening stock, so the history explains the figure
            db.session.add(StockMovement(site_id=site.id, part_id=part.id, kind="receipt", quantity=part.on_hand,
                                         reference="期初库存 opening stock", user_id=getattr(user, "id", None)))
    for make, model, op_code, part_number, quantity, km, months in MAINTENANCE:
        db.session.add(MaintenanceItem(
            site_id=site.id, make=make, model=model, operation_id=ops[op_code].id,
            part_id=parts[part_number].id if part_number else None,
            part_quantity=D(quantity) if quantity else None, every_km=km, every_months=months))
    db.session.flush()
    return True
