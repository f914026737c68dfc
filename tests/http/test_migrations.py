"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

A model change without its migration (or a hand-edited migration that drifts) makes
``compare_metadata`` report a difference here, with the offending operations in the message.
Also checks that the whole chain downgrades to an empty database and upgrades again.
"""
import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.support import make_app, pg_database, reset_pg_schema
from webapp.extensions import db
from webapp.search_index import include_object, made_here


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path):
    """A database with nothing in it, of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    url = pg_database("servicelane_migrations")
    reset_pg_schema(url)
    return url




@pytest.fixture
def migrated_app(fresh_url):
    app = make_app(fresh_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_diff():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, db.metadata)


def user_tables():
    return {t for t in inspect(db.engine).get_table_names() if t != "alembic_version" and not made_here(t)}


def current_revision():
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(app):
    from alembic.script import ScriptDirectory
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def test_upgrade_builds_the_models_schema(migrated_app):
    assert user_tables() == set()
    flask_migrate.upgrade()
    assert current_revision() == head_revision(migrated_app)
    assert user_tables() == set(db.metadata.tables)
    diff = schema_diff()
    assert diff == [], "migrations and models differ:\n" + "\n".join(map(repr, diff))


def test_downgrade_to_base_then_upgrade_again(migrated_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert user_tables() == set()
    assert current_revision() is None

    flask_migrate.upgrade()
    assert current_revision() == head_revision(migrated_app)
    diff = schema_diff()
    assert diff == [], "after downgrade and upgrade, migrations and models differ:\n" + "\n".join(map(repr, diff))


STATUS_COLUMNS = (("ticket", "status"), ("estimate", "status"), ("estimate_line", "decision"), ("job", "status"),
                  ("bill", "status"), ("follow_up", "status"), ("complaint", "status"))


def test_the_migrated_database_checks_every_status_column(migrated_app):
    flask_migrate.upgrade()
    insp = inspect(db.engine)
    for table, column in STATUS_COLUMNS:
        names = {c["name"] for c in insp.get_check_constraints(table)}
        assert f"ck_{table}_{column}" in names, (table, names)
