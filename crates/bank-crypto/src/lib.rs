//! The cryptography the banks' protocols prescribe, where it is more than one hash call:
//! one implementation shared by Orkestra's connectors (which speak the protocol) and the
//! bank simulators (which check it). Each module is checked against outside oracles (the
//! standards' vectors, OpenSSL, the bank's own toolkit), not only against its other user.
//!
//! * [`posnet`] — Yapı Kredi PosNet's OOS 3D packets: MD5, CRC-32 and Triple-DES-CBC.

pub mod posnet;
