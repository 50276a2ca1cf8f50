"""The HTTP API: `wellbeing.api.app.create_app` builds it from settings."""
