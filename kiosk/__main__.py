"""``python -m kiosk --url http://host:5000/kiosk?site=bj01``: start the lobby kiosk browser.

Full screen (--kiosk), tickets print without a dialog on the default printer (--kiosk-printing,
set the 80 mm receipt printer as default), no pinch zoom or swipe-back, and a persistent profile
so the site and language cookies survive a reboot. Run it from the kiosk user's session (e.g. an
autostart entry). ``--dry-run`` prints the command instead of running it."""
import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEFAULT_URL = "http://127.0.0.1:5000/kiosk"


def find_browser(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit if (os.path.isfile(explicit) and os.access(explicit, os.X_OK)) else shutil.which(explicit)
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def default_profile() -> Path:
    return Path.home() / ".config" / "servicelane-kiosk"


def build_command(browser: str, url: str, profile: Path) -> list[str]:
    return [
        browser,
        "--kiosk",
        "--kiosk-printing",
        "--noerrdialogs",
        "--disable-pinch",
        "--overscroll-history-navigation=0",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-translate",                      # no "translate this page?" bar over Chinese text
        "--disable-features=Translate,TranslateUI",
        "--hide-crash-restore-bubble",              # after a power cut: no "restore pages?" prompt
        "--disable-session-crashed-bubble",
        "--check-for-update-interval=31536000",
        url,
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"kiosk page, e.g. {DEFAULT_URL}?site=bj01")
    parser.add_argument("--browser", help="browser executable (default: the first of %s found on PATH)" % ", ".join(BROWSERS))
    parser.add_argument("--profile", type=Path, default=None,
                        help="browser profile directory (default: ~/.config/servicelane-kiosk)")
    parser.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    args = parser.parse_args(argv)

    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parser.error(f"--url must be an http(s) address, got {args.url!r}")
    browser = find_browser(args.browser)
    if browser is None:
        print("No Chromium or Chrome found (looked for: %s). Install chromium or pass --browser."
              % ", ".join([args.browser] if args.browser else BROWSERS), file=sys.stderr)
        return 2
    profile = (args.profile or default_profile()).expanduser()
    command = build_command(browser, args.url, profile)
    if args.dry_run:
        print(shlex.join(command))
        return 0
    profile.mkdir(parents=True, exist_ok=True)
    os.execv(browser, command)  # the browser replaces this process (clean for systemd / autostart)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
