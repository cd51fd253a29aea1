//! Orkestra's routing engine (work in progress).
