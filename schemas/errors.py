"""The root of Tape's exceptions: every error the platform raises derives from `TapeError`."""


class TapeError(Exception):
    """Base class of every error Tape raises on purpose."""


class ConfigError(TapeError, ValueError):
    """A configuration value is invalid; the message names the field."""


class SchemaError(TapeError):
    """A schema is unknown, malformed or incompatible."""


class DecodeError(TapeError):
    """Bytes could not be decoded into an event.

    ``reason`` is a short machine-friendly code (``bad-marker``, ``unknown-fingerprint``,
    ``truncated``, ``bad-body``) and the message says what arrived.
    """

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class EncodeError(TapeError):
    """A record does not match its schema."""


def config_error(source: str, error: Exception) -> ConfigError:
    """A `ConfigError` naming every bad field of a pydantic ``ValidationError``.

    Examples
    --------
    >>> from pydantic import BaseModel, PositiveInt, ValidationError
    >>> class Sizes(BaseModel):
    ...     lot: PositiveInt
    >>> try:
    ...     Sizes(lot=0)
    ... except ValidationError as e:
    ...     print(config_error("sizes", e))
    sizes: lot: Input should be greater than 0
    """
    problems = "; ".join(
        ": ".join(
            filter(
                None, (".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, "))
            )
        )
        for item in error.errors()  # type: ignore[attr-defined]
    )
    return ConfigError(f"{source}: {problems}")
