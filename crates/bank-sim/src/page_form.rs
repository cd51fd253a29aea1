//! Reading the simulators' pages as a browser does: the first `<form>` of a page, its
//! `action` and its `<input>` fields (HTML entities decoded). For tests and tools that walk
//! a bank's 3D gate, ACS page and callback without a browser.

/// A form found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

impl Form {
    /// The value of a field; panics (naming the fields there are) when it is missing, as a
    /// test wants.
    #[allow(clippy::panic)] // a test helper: a missing field is the test failing
    pub fn get(&self, name: &str) -> &str {
        self.value(name)
            .unwrap_or_else(|| panic!("no field {name} in {:?}", self.fields))
    }

    /// The value of a field, if the form has it.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field names, in page order.
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, _)| k.as_str()).collect()
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The first form of a page. Panics when the page has none (the page is in the message).
#[allow(clippy::panic)] // a test helper: a page without a form is the test failing
pub fn form_of(html: &str) -> Form {
    let start = html
        .find("<form")
        .unwrap_or_else(|| panic!("no form in {html}"));
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |e| e + start);
    let inner = &html[start..end];
    let head_end = inner.find('>').unwrap_or(inner.len());
    let action = attr(&inner[..head_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = &inner[head_end..];
    while let Some(at) = rest.find("<input") {
        let close = rest[at..].find('>').map_or(rest.len(), |c| c + at);
        let tag = &rest[at..close];
        if let Some(name) = attr(tag, "name") {
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[close..];
    }
    Form { action, fields }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_form_and_decodes_entities() {
        let page = r#"<p>x</p><form method="post" action="/acs?a=1&amp;b=2"><input type="hidden" name="md" value="a&quot;b"><input name="otp"><button name="action" value="confirm"></button></form><form action="/other"><input name="z" value="1"></form>"#;
        let form = form_of(page);
        assert_eq!(form.action, "/acs?a=1&b=2");
        assert_eq!(form.names(), ["md", "otp"]);
        assert_eq!(form.get("md"), "a\"b");
        assert_eq!(form.value("otp"), Some(""));
        assert_eq!(form.value("z"), None);
    }
}
