//! Placeholder for the hosted checkout page and pay-by-link.
