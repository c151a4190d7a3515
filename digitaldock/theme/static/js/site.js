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
