//! The InterPos wire format: reading a form-urlencoded request and writing the
//! `Key=Value;;Key=Value` reply (vector S6.1).
//!
//! Requests are parsed like the browser forms of the 3D gate
//! ([`crate::nestpay::threeds::form`]: UTF-8 or ISO-8859-9). Field names are matched
//! case-insensitively, as ASP.NET's `Request.Form` does (the library sends `orgOrderId`).
//! Replies are UTF-8 text, pairs in the bank's order; a value never carries `;` (it would
//! split the pair), so the simulator writes `,` instead.

use crate::nestpay::threeds::form;

/// A parsed request: its fields in posting order.
#[derive(Debug, Clone, Default)]
pub struct InterposRequest {
    fields: Vec<(String, String)>,
}

impl InterposRequest {
    pub fn from_fields(fields: Vec<(String, String)>) -> InterposRequest {
        InterposRequest { fields }
    }

    /// The trimmed text of the last field named `name` (any case), `None` when absent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// Like [`InterposRequest::field`] but `None` for empty values too.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.field(name).filter(|v| !v.is_empty())
    }

    /// A field's text, `""` when absent.
    pub fn text(&self, name: &str) -> &str {
        self.field(name).unwrap_or_default()
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Whether this is a browser's 3D form (`SecureType` `3DModel`, `3DPay`, `3DHost`)
    /// rather than an API call: the bank serves both on `/mpi/Default.aspx`.
    pub fn is_3d_form(&self) -> bool {
        let secure_type = self.text("SecureType");
        ["3DModel", "3DPay", "3DHost"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(secure_type))
    }

    /// Builds a request from pairs (unit tests of the books).
    #[cfg(test)]
    pub fn from_pairs(fields: &[(&str, &str)]) -> InterposRequest {
        InterposRequest {
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// Reads a form body.
pub fn parse_request(body: &[u8], content_type: Option<&str>) -> InterposRequest {
    InterposRequest {
        fields: form::parse(body, content_type),
    }
}

/// A reply: pairs in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub fields: Vec<(String, String)>,
}

impl Reply {
    pub fn new() -> Reply {
        Reply::default()
    }

    /// Appends a pair.
    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Reply {
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    /// A field's value (tests and logs).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The reply as the bank writes it (vector S6.1): `Key=Value` joined by `;;`.
pub fn render(reply: &Reply) -> String {
    reply
        .fields
        .iter()
        .map(|(name, value)| format!("{name}={}", value.replace(';', ",")))
        .collect::<Vec<_>>()
        .join(";;")
}

/// The reply as UTF-8 bytes, ready for the wire.
pub fn encode(reply: &Reply) -> Vec<u8> {
    render(reply).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R6.2 of vpos-test-vectors.md (mewebstudio/pos InterPosRequestDataMapperTest).
    const R6_2: &str = "UserCode=InterTestApi&UserPass=3&ShopCode=3123&TxnType=Auth&SecureType=NonSecure&OrderId=order222&PurchAmount=100.25&Currency=949&InstallmentCount=&MOTO=0&Lang=tr&CardType=0&Pan=5555444433332222&Expiry=1221&Cvv2=122";

    #[test]
    fn reads_a_library_sale_request() {
        let r = parse_request(R6_2.as_bytes(), Some("application/x-www-form-urlencoded"));
        assert_eq!(r.field("shopcode"), Some("3123"));
        assert_eq!(r.field("PurchAmount"), Some("100.25"));
        assert_eq!(r.field("InstallmentCount"), Some(""));
        assert_eq!(r.non_empty("InstallmentCount"), None);
        assert_eq!(r.field("Missing"), None);
        assert!(!r.is_3d_form());
        let form = parse_request(b"SecureType=3dpay&ShopCode=1", None);
        assert!(form.is_3d_form());
        let iso = parse_request(b"CardHolderName=Ay%FEe+K", None);
        assert_eq!(iso.field("CardHolderName"), Some("Ayşe K"));
    }

    #[test]
    fn replies_look_like_the_banks() {
        let mut reply = Reply::new();
        reply
            .push("OrderId", "o1")
            .push("ProcReturnCode", "00")
            .push("ErrorMessage", "a;;b")
            .push("Amount", "1,00");
        assert_eq!(
            render(&reply),
            "OrderId=o1;;ProcReturnCode=00;;ErrorMessage=a,,b;;Amount=1,00"
        );
    }
}
