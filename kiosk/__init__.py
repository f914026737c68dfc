"""The lobby kiosk: its blueprint (``kiosk.views``) and ``python -m kiosk`` (the device launcher)."""
