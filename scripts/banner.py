"""Printed by `make run`: where each screen is and how to sign in to the demo shop."""
import sys

from webapp.cli import DEMO_PASSWORD, DEMO_USERS

host, port = sys.argv[1], sys.argv[2]
base = f"http://{host}:{port}"
print(f"""
ServiceLane demo shop — {base}
  Kiosk (lobby, 1080×1920 touch)   {base}/kiosk
  Lobby calling display (TV)       {base}/lobby
  Advisor console                  {base}/advisor
  Workshop dispatch / technician   {base}/workshop   {base}/tech
  Cashier (settlement)             {base}/cashier
  Follow-up calls, complaints      {base}/followup   {base}/complaints
  Service history                  {base}/history
  Appointments (booking by phone)  {base}/appointments
  Booking online (customer phone)  {base}/book
  Start page                       {base}/start
Demo logins (password {DEMO_PASSWORD}):""")
for username, role, name, desk in DEMO_USERS:
    print(f"  {username:<11} {role:<11} {name}" + (f"  desk {desk}" if desk else ""))
print()
