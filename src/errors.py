"""The root of every error the product raises on purpose."""


class WellbeingError(Exception):
    """Base of the product's errors; messages never carry personal data."""

    code = "error"


class ConfigurationError(WellbeingError):
    """A setting is missing or invalid; the message names the setting."""

    code = "configuration"


class InputError(WellbeingError):
    """Input from a person or a file is wrong; names the row or field."""

    code = "invalid-input"
