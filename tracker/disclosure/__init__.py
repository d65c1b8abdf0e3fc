"""Disclosure on application and the annual report: deadlines, the register's operations, the tables.

The pages are in :mod:`tracker.register`.
"""
