// Posts the page's single form on load (bank redirects, returns to the merchant).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.forms[0];
  if (form) { form.submit(); }
});
