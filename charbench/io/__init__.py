"""Raw-format readers: pure, dataset-agnostic, each raising FormatError that names the file."""
