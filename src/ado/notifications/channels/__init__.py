"""The built-in channels: Slack, email (SMTP) and webhooks, registered as ``ado.notifiers``."""
