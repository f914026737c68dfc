"""``python -m webapp [--host H] [--port P] [--no-worker]``: serve the app with Socket.IO (what
``make run`` does), with a task consumer thread beside it (webapp/tasks) so notices go out and the
periodic work runs without a second command. ``--no-worker`` leaves the tasks to ``flask worker``."""
import argparse

from . import create_app
from .extensions import socketio


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--no-worker", action="store_true",
                        help="do not run queued tasks in this process (run `flask --app webapp worker`)")
    args = parser.parse_args()
    app = create_app()
    consumer = None
    if not args.no_worker:
        from .tasks import huey, start_embedded_consumer
        if not huey.immediate:
            consumer = start_embedded_consumer()
    try:
        socketio.run(app, host=args.host, port=args.port, debug=args.debug, use_reloader=False,
                     allow_unsafe_werkzeug=True)
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


if __name__ == "__main__":
    main()
