"""Notifier backends: how a message reaches a customer.

A backend is a small object with a ``channel`` name (the Notification log's column), a way to
pick the customer's address for its channel, and ``send(message) -> SendResult``. It never
raises for a delivery problem: it answers ``SendResult(ok=False, error=…)`` and the caller logs
the attempt. An SMS or WeChat gateway implements the same three things (see ``Notifier``) and
is named in ``SERVICELANE_NOTIFY_BACKEND`` as ``package.module:ClassName`` or registered with
``register_backend``; it is built with the app's config (``from_config``)."""
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

log = logging.getLogger("servicelane.notify")


@dataclass(frozen=True)
class Message:
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str | None = None


class Notifier:
    """The interface. Subclasses set ``channel`` and implement ``send``; ``recipient_for``
    chooses the address of the customer on this channel (None: the customer cannot be reached)."""
    channel = "none"

    @classmethod
    def from_config(cls, config) -> "Notifier":
        return cls()

    def recipient_for(self, customer) -> str | None:
        return (getattr(customer, "email", None) or "").strip() or None

    def send(self, message: Message) -> SendResult:  # pragma: no cover - interface
        raise NotImplementedError


class LogBackend(Notifier):
    """The default: writes the message to the application log (nothing leaves the server)."""
    channel = "log"

    def send(self, message: Message) -> SendResult:
        log.info("notice to %s: %s\n%s", message.recipient, message.subject, message.body)
        return SendResult(True)


class SmtpBackend(Notifier):
    """E-mail through an SMTP server: implicit TLS (``ssl``), STARTTLS, or plain; optional login."""
    channel = "email"

    def __init__(self, host="localhost", port=None, user=None, password=None, sender=None,
                 starttls=False, use_ssl=False, timeout=10):
        self.host = host or "localhost"
        self.use_ssl = bool(use_ssl)
        self.starttls = bool(starttls) and not self.use_ssl
        self.port = int(port) if port else (465 if self.use_ssl else 587 if self.starttls else 25)
        self.user, self.password = user or None, password or ""
        self.sender = sender or (user if user and "@" in user else f"servicelane@{self.host}")
        self.timeout = float(timeout or 10)

    @classmethod
    def from_config(cls, config) -> "SmtpBackend":
        return cls(host=config.get("SMTP_HOST"), port=config.get("SMTP_PORT"), user=config.get("SMTP_USER"),
                   password=config.get("SMTP_PASSWORD"), sender=config.get("SMTP_FROM"),
                   starttls=config.get("SMTP_STARTTLS"), use_ssl=config.get("SMTP_SSL"),
                   timeout=config.get("SMTP_TIMEOUT"))

    def email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body)       # UTF-8, Chinese text as is
        return mail

    def send(self, message: Message) -> SendResult:
        mail = self.email(message)
        try:
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("SMTP %s:%s refused or unreachable: %s", self.host, self.port, exc)
            return SendResult(False, f"{type(exc).__name__}: {exc}"[:1000])
        if refused:
            return SendResult(False, f"refused: {refused}"[:1000])
        return SendResult(True)


BACKENDS: dict[str, type[Notifier]] = {"log": LogBackend, "smtp": SmtpBackend}


def register_backend(name: str, cls: type[Notifier]) -> None:
    BACKENDS[name] = cls


def backend_from_config(config) -> Notifier:
    """The backend named by ``NOTIFY_BACKEND``: a registered name or ``module:Class``."""
    name = (config.get("NOTIFY_BACKEND") or "log").strip()
    cls = BACKENDS.get(name.lower())
    if cls is None and ":" in name:
        import importlib
        module, _, attr = name.partition(":")
        cls = getattr(importlib.import_module(module), attr)
    if cls is None:
        raise ValueError(f"unknown notifier backend {name!r} (log, smtp or module:Class)")
    return cls.from_config(config)
