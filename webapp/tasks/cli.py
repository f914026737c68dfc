"""``flask --app webapp worker``: the standalone task consumer (production; ``make worker``)."""
import click


def register(app) -> None:
    if "worker" in app.cli.commands:
        return

    @app.cli.command("worker")
    @click.option("--workers", default=2, show_default=True, help="Worker threads.")
    @click.option("--no-periodic", is_flag=True, help="Leave the five-minute periodic tasks to another consumer.")
    def worker_command(workers, no_periodic):
        """Run queued tasks (notices) and the periodic ones (escalation, follow-ups due, retries)."""
        import logging

        from . import backend_name, huey
        from flask import current_app
        if huey.immediate:
            raise click.ClickException("TASKS_BACKEND is 'immediate': tasks run where they are queued")
        if backend_name(current_app) == "memory":
            raise click.ClickException("TASKS_BACKEND is 'memory': only the server's own process sees that queue")
        logging.basicConfig(level=logging.INFO)
        click.echo(f"task consumer on {huey.storage.__class__.__name__}, {workers} thread(s)")
        huey.create_consumer(workers=workers, worker_type="thread", periodic=not no_periodic, max_delay=2.0).run()
