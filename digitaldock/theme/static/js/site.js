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

// With JavaScript, the header's search goes to the static search page (the shards, in the
// browser); without, it goes to the edge's results page.
(function () {
  "use strict";
  var form = document.querySelector("form.header-search");
  if (form && window.fetch) form.setAttribute("action", form.getAttribute("data-static-action"));
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

// Save buttons (issue #14): without this script each is a form posted to the edge, which saves
// and returns to the product page (a guest signs in first). With it: the saved state of a
// signed-in buyer is shown, and Save toggles in place; a guest still goes to sign in.
(function () {
  "use strict";
  var checkout = document.body.getAttribute("data-checkout-url");
  var forms = document.querySelectorAll("form.save[data-save]");
  if (!checkout || !forms.length || !window.fetch) return;
  var signedIn = false;
  function show(form, saved) {
    var button = form.querySelector("button");
    button.setAttribute("aria-pressed", saved ? "true" : "false");
    button.textContent = saved ? "Saved" : "Save";
  }
  fetch(checkout + "/api/wishlist/saved", { credentials: "include" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data || !data.signed_in) return;
      signedIn = true;
      forms.forEach(function (form) { show(form, data.saved.indexOf(form.getAttribute("data-save")) >= 0); });
      document.body.setAttribute("data-wishlist", "ready"); // the buttons show the saved state now
    })
    .catch(function () {});
  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!signedIn) return; // the form's own post: the edge asks a guest to sign in
      event.preventDefault();
      var saved = form.querySelector("button").getAttribute("aria-pressed") === "true";
      var body = new URLSearchParams({ product: form.getAttribute("data-save") });
      if (saved) body.set("remove", "1");
      fetch(form.action, { method: "POST", credentials: "include", mode: "no-cors", body: body })
        .then(function () { return fetch(checkout + "/api/wishlist/saved", { credentials: "include" }); })
        .then(function (r) { return r.json(); })
        .then(function (data) { show(form, data.saved.indexOf(form.getAttribute("data-save")) >= 0); })
        .catch(function () { form.submit(); });
    });
  });
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
