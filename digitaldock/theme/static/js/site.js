// Progressive enhancement only: every page works without this file.
// Shows the number of items in the cart when the checkout edge says so (same-site cookie,
// CORS allowed for the storefront origin); silently does nothing when the edge is away.
(function () {
  "use strict";
  var checkout = document.body.getAttribute("data-checkout-url");
  if (!checkout || !window.fetch) return;
  fetch(checkout + "/api/cart/summary", { credentials: "include" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || typeof data.count !== "number") return;
      var link = document.querySelector('.account-links a[href$="/cart"]');
      if (link && data.count > 0) link.textContent = "Cart (" + data.count + ")";
    })
    .catch(function () {});
})();

// A product page asks the edge to count one view (issue #16): no cookie is sent (credentials
// "omit"), nothing is read back, and the edge keeps a number per product and day, never who
// viewed. Crawlers rarely run scripts; the edge drops the ones that announce themselves.
(function () {
  "use strict";
  var checkout = document.body.getAttribute("data-checkout-url");
  var product = document.querySelector("article.product[data-product]");
  if (!checkout || !product || !window.fetch) return;
  fetch(checkout + "/v/" + encodeURIComponent(product.getAttribute("data-product")),
        { method: "POST", credentials: "omit", keepalive: true, mode: "no-cors" }).catch(function () {});
})();

// A product link with ?code=SAVE10 (issue #17): the Buy form carries the discount code to the
// edge, which shows the discounted price on its checkout page before anyone pays. Without
// JavaScript the buyer types the code on that page instead.
// An affiliate's link, ?via=CODE, is carried the same way by the Buy and Add-to-cart forms; the
// edge remembers it (a first-party cookie) when one of them is sent.
(function () {
  "use strict";
  if (!window.URLSearchParams) return;
  var query = new URLSearchParams(window.location.search);
  ["code", "via"].forEach(function (name) {
    var value = query.get(name);
    if (!value || !/^[A-Za-z0-9_-]{2,40}$/.test(value)) return;
    document.querySelectorAll('form.buy input[name="' + name + '"], form.add-to-cart input[name="' + name + '"]')
      .forEach(function (field) { field.value = value; });
  });
})();
