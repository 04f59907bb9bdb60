"""The email channel: SMTP with STARTTLS or SSL and an optional login.

Settings (``[channels.email]`` or ``BETWEEN_CHANNEL_EMAIL_<KEY>``): ``host`` (required),
``port`` (587 for STARTTLS, 465 for SSL, 25 otherwise), ``security`` (``starttls``, ``ssl`` or
``none``; default ``starttls``), ``username``, ``password``, ``sender``, ``timeout`` (seconds).
The Message-ID is derived from the notification's idempotency key, so a retried message is
recognisably the same message.
"""

from __future__ import annotations

from typing import Any

from between import Delivery, Message, hookimpl

DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class Email:
    name = "email"
    address_key = "email"

    def send(self, message: Message, settings: Any) -> Delivery:
        import smtplib  # here, not at import: loading plugins must stay quick
        import ssl
        from email.message import EmailMessage

        conf = settings.channel("email")
        host = conf.get("host")
        if not host:
            return Delivery("permanent", "email is not configured: set [channels.email] host")
        security = str(conf.get("security", "starttls")).lower()
        if security not in DEFAULT_PORTS:
            return Delivery("permanent", "[channels.email] security must be starttls, ssl or none")
        port = int(conf.get("port") or DEFAULT_PORTS[security])
        timeout = float(conf.get("timeout", 10))
        mail = EmailMessage()
        mail["From"] = conf.get("sender", "between@localhost")
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.key}@between.notifications>"
        mail["X-Between-Idempotency-Key"] = message.key
        mail.set_content(message.text)
        try:
            smtp: smtplib.SMTP
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if conf.get("username"):
                    smtp.login(conf["username"], conf.get("password", ""))
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            # The detail is logged unsealed: the reply codes, never the address itself.
            codes = ", ".join(str(code) for code, _ in e.recipients.values())
            return Delivery("permanent", f"the server refused the recipient (SMTP {codes})")
        except smtplib.SMTPResponseException as e:
            outcome = "permanent" if 500 <= e.smtp_code < 600 else "retryable"
            return Delivery(outcome, f"SMTP {e.smtp_code}: {e.smtp_error!r}")
        except (TimeoutError, OSError, smtplib.SMTPException) as e:
            return Delivery("retryable", f"{type(e).__name__}: {e}")
        return Delivery("delivered", f"accepted by {host}:{port}")


@hookimpl
def between_register_channels(registry: Any) -> None:
    registry.add(Email())
