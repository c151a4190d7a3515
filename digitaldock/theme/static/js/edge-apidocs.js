// Renders /api/openapi.json as a list of operations (no CDN, no inline script: CSP-safe).
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root) { return; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  fetch(root.getAttribute("data-spec"), { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (spec) {
      root.textContent = "";
      Object.keys(spec.paths).sort().forEach(function (path) {
        var ops = spec.paths[path];
        Object.keys(ops).forEach(function (method) {
          var op = ops[method];
          var box = el("div", "edge-api-op");
          var head = el("p");
          head.appendChild(el("span", "edge-api-method", method));
          head.appendChild(el("code", "", path));
          box.appendChild(head);
          box.appendChild(el("p", "", op.summary || ""));
          if (op.security) { box.appendChild(el("p", "edge-hint", "Needs a bearer token.")); }
          if (op.requestBody) {
            var pre = el("pre");
            pre.textContent = JSON.stringify(op.requestBody.content["application/json"].schema, null, 2);
            box.appendChild(pre);
          }
          root.appendChild(box);
        });
      });
    })
    .catch(function () { root.textContent = "Could not load the API description."; });
}());
