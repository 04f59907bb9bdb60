"""Notifications: queuing what each event calls for, and sending through the channel plugins
(``between notify``)."""
