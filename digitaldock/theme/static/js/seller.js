// The seller's product form: drag and drop, a progress bar per file, a Markdown preview.
// Without JavaScript the form still posts as plain multipart and the edge answers with a page.
(function () {
  "use strict";
  var form = document.getElementById("product-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var list = document.getElementById("upload-progress");
  var errorBox = document.getElementById("upload-error");

  function chosen() {
    var out = [];
    ["files", "cover", "images"].forEach(function (name) {
      var input = document.getElementById(name);
      for (var i = 0; i < input.files.length; i++) { out.push(input.files[i]); }
    });
    return out;
  }

  function showList() {
    list.textContent = "";
    chosen().forEach(function (file, i) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = file.name + " ";
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0; bar.id = "progress-" + i;
      bar.setAttribute("aria-label", "Upload of " + file.name);
      li.appendChild(label); li.appendChild(bar);
      list.appendChild(li);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll(".dd-dropzone"), function (zone) {
    var input = document.getElementById(zone.getAttribute("data-for"));
    input.addEventListener("change", showList);
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("dd-drag"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("dd-drag"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault(); zone.classList.remove("dd-drag");
      input.files = e.dataTransfer.files;
      showList();
    });
  });

  var previewButton = document.getElementById("preview-button");
  var preview = document.getElementById("preview");
  previewButton.hidden = false;
  previewButton.addEventListener("click", function () {
    var body = new URLSearchParams();
    body.set("description", document.getElementById("description").value);
    fetch("/seller/preview", {method: "POST", body: body, credentials: "same-origin",
                              headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) { preview.innerHTML = data.html || ""; preview.hidden = false; });
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    errorBox.hidden = true;
    var files = chosen();
    showList();
    var data = new FormData(form);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));  // not form.action: a field is named "action"
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (ev) {
      var done = ev.loaded;
      files.forEach(function (file, i) {
        var bar = document.getElementById("progress-" + i);
        var part = Math.max(0, Math.min(file.size, done));
        bar.value = file.size ? Math.round(100 * part / file.size) : 100;
        done -= file.size;
      });
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201 && body.redirect) {
        files.forEach(function (f, i) { document.getElementById("progress-" + i).value = 100; });
        window.location.assign(body.redirect);
        return;
      }
      var text = body.message || "The upload failed (" + xhr.status + ").";
      if (body.fields) { Object.keys(body.fields).forEach(function (k) { text += " " + body.fields[k]; }); }
      errorBox.textContent = text;
      errorBox.hidden = false;
    });
    xhr.addEventListener("error", function () {
      errorBox.textContent = "The upload was interrupted. Please try again.";
      errorBox.hidden = false;
    });
    xhr.send(data);
  });
}());
