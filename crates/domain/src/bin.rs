//! The BIN (issuer identification number) table. Filled in by the BIN work; see `data/bin/`.
