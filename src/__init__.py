"""Wellbeing Ledger: an event-sourced backend for school wellbeing records."""
