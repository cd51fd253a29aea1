// Orkestra checkout page: live card-number formatting, brand detection, BIN lookup with
// installment prices. Works without this script too (plain form post, single payment).
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) { return; }
  var number = document.getElementById("cardNumber");
  var expiry = document.getElementById("expiry");
  var cvc = document.getElementById("cvc");
  var brand = document.getElementById("brand");
  var info = document.getElementById("card-info");
  var select = document.getElementById("installment");
  var button = document.getElementById("pay");
  var texts = JSON.parse(document.getElementById("texts").textContent);
  var lastBin = "";

  function digits(value) { return value.replace(/\D/g, ""); }
  function detect(d) {
    if (/^4/.test(d)) { return "VISA"; }
    if (/^(5[1-5]|2[2-7])/.test(d)) { return "MASTERCARD"; }
    if (/^3[47]/.test(d)) { return "AMEX"; }
    if (/^9792/.test(d) || /^65/.test(d)) { return "TROY"; }
    return "";
  }
  function money(minor) {
    var value = (minor / Math.pow(10, texts.decimals)).toFixed(texts.decimals);
    return texts.lang === "tr" ? value.replace(".", ",") + " " + texts.currency : value + " " + texts.currency;
  }
  function renderOptions(options) {
    var selected = select.value;
    while (select.firstChild) { select.removeChild(select.firstChild); }
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = String(o.installment);
      opt.textContent = o.installment === 1
        ? texts.single + " — " + money(o.totalPriceMinor)
        : o.installment + " " + texts.installments + " × " + money(o.installmentPriceMinor) + " (" + texts.total + " " + money(o.totalPriceMinor) + ")";
      if (opt.value === selected) { opt.selected = true; }
      select.appendChild(opt);
    });
  }
  function lookup(bin) {
    if (bin === lastBin) { return; }
    lastBin = bin;
    fetch(texts.installmentsUrl + "?bin=" + encodeURIComponent(bin), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body || lastBin !== bin) { return; }
        var parts = [body.bankName, body.cardBrand, body.cardType === "DEBIT_CARD" ? texts.debit : null].filter(Boolean);
        info.textContent = parts.join(" · ");
        renderOptions(body.options);
      })
      .catch(function () { info.textContent = ""; });
  }
  number.addEventListener("input", function () {
    var d = digits(number.value).slice(0, 19);
    number.value = d.replace(/(\d{4})(?=\d)/g, "$1 ");
    brand.textContent = detect(d);
    if (d.length >= 8) { lookup(d.slice(0, 8)); } else if (d.length < 6) { lastBin = ""; info.textContent = ""; }
  });
  expiry.addEventListener("input", function () {
    var d = digits(expiry.value).slice(0, 4);
    expiry.value = d.length > 2 ? d.slice(0, 2) + "/" + d.slice(2) : d;
  });
  cvc.addEventListener("input", function () { cvc.value = digits(cvc.value).slice(0, 4); });
  form.addEventListener("submit", function () { button.disabled = true; button.textContent = texts.processing; });
})();
