"""The HDF5 shard format: schema (declared once), writer, reader, verification."""
