"""``python -m webapp [--host H] [--port P]``: serve the app with Socket.IO (what ``make run`` does)."""
import argparse

from . import create_app
from .extensions import socketio


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()
    app = create_app()
    socketio.run(app, host=args.host, port=args.port, debug=args.debug, use_reloader=False,
                 allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
