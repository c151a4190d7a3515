// The page runs scripts: the phone layout folds the header menu and the filters (issue #15).
document.documentElement.classList.add("js");

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

// A "Print" button (the printable receipt, issue #15): the CSP allows no inline handler.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function () { window.print(); });
  }
})();

// The header's Menu button (phones): one line until it is pressed. Filters fold on a phone.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-button");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  if (window.matchMedia && window.matchMedia("(max-width: 48rem)").matches) {
    var folds = document.querySelectorAll("details[data-fold]");
    for (var i = 0; i < folds.length; i++) folds[i].open = false;
  }
})();
