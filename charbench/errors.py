"""Every exception charbench raises. The CLI catches CharbenchError once and prints its message."""


class CharbenchError(Exception):
    """Base class: a problem the user can act on; printed without a traceback by the CLI."""


class FormatError(CharbenchError, ValueError):
    """A raw or prepared file is not in the format it claims (bad magic, truncated, unparsable)."""


class UnreadableImageError(FormatError):
    """An image file that cannot be decoded (truncated, corrupt, not an image, absurdly large)."""


class ShardFormatError(FormatError):
    """A shard or index.json does not follow the schema this charbench reads."""


class ChecksumError(CharbenchError):
    """A file's sha256 differs from the one recorded for it."""


class RawDataNotFoundError(CharbenchError, FileNotFoundError):
    """The raw files a converter needs are not where it looked."""


class UnknownNameError(CharbenchError, KeyError):
    """A registry lookup for a name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DownloadError(CharbenchError):
    """Every mirror of a raw file failed."""


class ArchiveError(FormatError):
    """A zip or tar entry is unsafe (absolute path, '..', link, enormous size) or unreadable."""


class DatasetExistsError(CharbenchError, FileExistsError):
    """The output dataset exists and --force was not given, or another prepare holds its lock."""


class OptionError(CharbenchError, ValueError):
    """An option that does not apply, or has a value out of range."""


class ReportFormatError(FormatError):
    """A benchmark run folder lacks report.json, or holds one in a schema this charbench does not read."""
