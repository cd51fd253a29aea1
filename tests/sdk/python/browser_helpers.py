"""A scripted browser for the pages around the API: the 3D Secure hand-off (Orkestra's
auto-submitting form, the simulated bank's 3D gate and ACS page, Orkestra's callback), the
hosted checkout page and the pay-by-link product page.

It does what a browser does with those pages and nothing more: it reads the forms
(`<input>`, `<select>`, buttons) with the standard library's HTML parser, posts their fields
to their (resolved) actions as `application/x-www-form-urlencoded`, and never follows a
redirect on its own, so a test sees every hop. The last hop, the form that would carry the
shopper to the merchant's own site, is parsed and returned instead of being submitted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Dict, List, Optional
from urllib.parse import urljoin

import requests

TEST_OTP = "123456"  # printed on the simulator's ACS page


@dataclass
class Form:
    action: str  # absolute
    method: str
    fields: Dict[str, str] = field(default_factory=dict)  # named inputs, selects (their selected option)
    options: Dict[str, List[str]] = field(default_factory=dict)  # a select's option values
    buttons: List[Dict[str, Optional[str]]] = field(default_factory=list)
    id: Optional[str] = None


class _FormParser(HTMLParser):
    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.forms: List[Form] = []
        self._form: Optional[Form] = None
        self._select: Optional[str] = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(
                action=urljoin(self.base_url, a.get("action") or self.base_url),
                method=(a.get("method") or "get").lower(),
                id=a.get("id"),
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        if tag == "button" or (tag == "input" and (a.get("type") or "").lower() == "submit"):
            form.buttons.append(a)
        elif tag == "input":
            if a.get("name") and (a.get("type") or "text").lower() not in ("checkbox", "radio"):
                form.fields[a["name"]] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            form.fields[a["name"]] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            form.options[a["name"]] = []
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            form.options[self._select].append(value)
            if len(form.options[self._select]) == 1 or "selected" in a:
                form.fields[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
            self._select = None
        elif tag == "select":
            self._select = None


def parse_forms(html: str, base_url: str = "") -> List[Form]:
    parser = _FormParser(base_url)
    parser.feed(html)
    parser.close()
    return parser.forms


def only_form(html: str, base_url: str = "") -> Form:
    forms = parse_forms(html, base_url)
    assert len(forms) == 1, f"expected one form, found {len(forms)} in:\n{html[:3000]}"
    return forms[0]


class Browser:
    """One shopper's browser: a cookie jar, no proxy, no automatic redirects."""

    def __init__(self):
        self.http = requests.Session()
        self.http.trust_env = False

    def get(self, url: str, **kw) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=60, **kw)

    def post(self, url: str, data=None, **kw) -> requests.Response:
        return self.http.post(url, data=data, allow_redirects=False, timeout=60, **kw)

    def submit(self, form: Form, **values: str) -> requests.Response:
        """Posts the form's fields, with `values` typed in (or a button's name=value)."""
        assert form.method == "post", form
        data = dict(form.fields)
        data.update(values)
        return self.post(form.action, data=data)


@dataclass
class ThreeDsRun:
    gate: requests.Response  # the bank's 3D gate: the ACS (OTP) page
    acs: requests.Response  # the ACS page's answer: the auto-submitting callback form
    bank_callback: Form  # what the bank posts to Orkestra's /threeds/callback/{token}
    orkestra: requests.Response  # Orkestra's answer to the bank's callback
    merchant: Optional[Form]  # the form Orkestra's answer would post to the merchant


def run_3ds(
    browser: Browser,
    start_html: str,
    start_url: str = "",
    otp: str = TEST_OTP,
    action: str = "confirm",
) -> ThreeDsRun:
    """From the page that posts the shopper to the bank (htmlContent, or the checkout
    page's answer) to Orkestra's answer to the bank's callback."""
    start = only_form(start_html, start_url)
    gate = browser.submit(start)
    assert gate.status_code == 200, f"3D gate answered {gate.status_code}: {gate.text[:2000]}"
    acs_form = only_form(gate.text, gate.url)
    assert "otp" in acs_form.fields, f"no OTP field on the ACS page: {gate.text[:2000]}"
    assert {b.get("value") for b in acs_form.buttons if b.get("name") == "action"} >= {"confirm", "cancel"}
    acs = browser.submit(acs_form, otp=otp, action=action)
    assert acs.status_code == 200, f"ACS answered {acs.status_code}: {acs.text[:2000]}"
    bank_callback = only_form(acs.text, acs.url)
    orkestra = browser.submit(bank_callback)
    merchant = None
    if orkestra.status_code == 200:
        forms = parse_forms(orkestra.text, orkestra.url)
        merchant = forms[0] if forms else None
    return ThreeDsRun(gate=gate, acs=acs, bank_callback=bank_callback, orkestra=orkestra, merchant=merchant)


def decode_html_content(html_content: str) -> str:
    return base64.b64decode(html_content).decode("utf-8")
