"""Exit 0 when the PostgreSQL server at argv[1] accepts a connection (used by make test-pg)."""
import sys

try:
    import psycopg2
    psycopg2.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:  # noqa: BLE001
    print(f"PostgreSQL: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
