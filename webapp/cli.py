"""Command-line tasks: ``flask --app webapp demo-data``, ``create-user`` and ``deactivate-user``."""
from datetime import datetime, timedelta

import click
from sqlalchemy import func, select

from .extensions import db
from .models import Appointment, Customer, Site, User, Vehicle
from .roles import ALL
from .timeutil import local_day, local_to_utc, utcnow

DEMO_PASSWORD = "demo1234"
DEMO_USERS = [
    # username, role, display name, desk
    ("advisor1", "advisor", "王晓明", "1"),
    ("advisor2", "advisor", "李娜", "2"),
    ("advisor3", "advisor", "张伟", "3"),
    ("dispatcher", "dispatcher", "赵强", None),
    ("tech1", "technician", "刘师傅", None),
    ("tech2", "technician", "陈师傅", None),
    ("qc", "qc", "孙质检", None),
    ("parts", "parts", "周备件", None),
    ("cashier", "cashier", "吴收银", None),
    ("csi", "csi", "郑回访", None),
    ("manager", "manager", "钱经理", None),
    ("admin", "admin", "系统管理员", None),
]
DEMO_CUSTOMERS = [
    # name, mobile, plate, make, model, year, colour, mileage, appointment hour offset, reason
    ("张先生", "13800138001", "京A12345", "大众", "帕萨特", 2021, "黑色", 45210, 0, "maintenance"),
    ("李女士", "13900139002", "京BD12345", "比亚迪", "汉 EV", 2023, "白色", 18800, 1, "repair"),
    ("王先生", "13700137003", "京N8K2M1", "丰田", "凯美瑞", 2019, "银色", 98020, 2, "warranty"),
    ("刘女士", "15000150004", "京Q6P7R8", "本田", "雅阁", 2020, "蓝色", 61034, 3, "bodywork"),
    ("陈先生", "18600186005", "津C55667", "别克", "GL8", 2022, "灰色", 30500, None, None),
]


def demo_data(site_code="bj01"):
    """One site with a user per role, a few customers and vehicles, and today's appointments.
    Idempotent: returns False when the site already exists."""
    if db.session.scalar(select(Site).where(Site.code == site_code)):
        return False
    import secrets
    site = Site(code=site_code, name_zh="星驰汽车4S店（朝阳店）", name_en="Xingchi Motors (Chaoyang)",
                board_token=secrets.token_urlsafe(24))
    db.session.add(site)
    db.session.flush()
    for username, role, name, desk in DEMO_USERS:
        user = User(site_id=site.id, username=username, role=role, display_name=name, desk=desk)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    db.session.flush()
    advisor = db.session.scalar(select(User).where(User.username == "advisor1"))
    today = local_day(site.timezone)
    now_local_hour = (utcnow() + timedelta(hours=8)).hour
    for name, mobile, plate, make, model, year, colour, km, offset, reason in DEMO_CUSTOMERS:
        customer = Customer(site_id=site.id, name=name, mobile=mobile)
        db.session.add(customer)
        db.session.flush()
        vehicle = Vehicle(site_id=site.id, customer_id=customer.id, plate=plate, make=make, model=model,
                          year=year, colour=colour, last_mileage=km)
        db.session.add(vehicle)
        db.session.flush()
        if offset is not None:
            hour = min(max(now_local_hour + offset, 8), 17)
            local = datetime(today.year, today.month, today.day, hour, 0 if offset % 2 == 0 else 30)
            db.session.add(Appointment(
                site_id=site.id, customer_id=customer.id, vehicle_id=vehicle.id,
                advisor_id=advisor.id if offset == 1 else None,
                scheduled_at=local_to_utc(site.timezone, local), reason=reason,
                description={"maintenance": "常规保养，换机油机滤", "repair": "空调不制冷",
                             "warranty": "仪表盘故障灯常亮", "bodywork": "右后门刮擦"}[reason]))
    from . import demo_catalogue
    demo_catalogue.load(site, db.session.scalar(select(User).where(User.username == "parts")))
    db.session.commit()
    from . import demo_visits
    demo_visits.load(site)
    from . import demo_appointments
    demo_appointments.load(site)
    return True


def register(app):
    @app.cli.command("demo-data")
    @click.option("--site", default="bj01", help="Site code to create.")
    def demo_data_command(site):
        """Load the demo shop (one site, a user per role, customers, today's appointments)."""
        if demo_data(site):
            click.echo(f"Demo data loaded for site {site}. Password for every demo user: {DEMO_PASSWORD}")
        else:
            click.echo(f"Site {site} exists already; nothing loaded.")

    @app.cli.command("is-empty")
    def is_empty_command():
        """Exit 0 when the database has no site yet (used by make run to load demo data once)."""
        raise SystemExit(0 if not db.session.scalar(select(func.count(Site.id))) else 1)

    @app.cli.command("board-url")
    @click.option("--site", "site_code", default=None)
    @click.option("--base", default="http://127.0.0.1:5000")
    def board_url(site_code, base):
        """Print the wall screens' addresses: the workshop board and the appointment board for the
        reception TV (both carry the site's board token; no login on a TV)."""
        import secrets
        stmt = select(Site).order_by(Site.id)
        if site_code:
            stmt = stmt.where(Site.code == site_code)
        for site in db.session.scalars(stmt):
            if not site.board_token:
                site.board_token = secrets.token_urlsafe(24)
                db.session.commit()
            click.echo(f"{site.code}: {base}/board?token={site.board_token}")
            click.echo(f"{site.code} appointments: {base}/appointments/board?token={site.board_token}")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ALL), required=True)
    @click.option("--site", "site_code", required=True)
    @click.option("--name", "display_name", default=None)
    @click.option("--desk", default=None)
    @click.password_option()
    def create_user(username, role, site_code, display_name, desk, password):
        """Create a staff account."""
        site = db.session.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise click.ClickException(f"no site {site_code}")
        user = User(site_id=site.id, username=username, role=role, display_name=display_name or username, desk=desk)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"created {username} ({role}) at {site_code}")

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user_command(username):
        """Deactivate a staff account: no more sign-ins, and its open sessions end at once."""
        from .services.auth import deactivate_user
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username}")
        ended = deactivate_user(user)
        click.echo(f"deactivated {username}; {ended} open session(s) ended")
