//! Wallet ledger persistence (placeholder).
