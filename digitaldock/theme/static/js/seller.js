// The seller's product form: drag and drop, a Markdown preview, a pre-flight check of the fields
// before any file is sent, and one upload with its percentage, speed and time left.
// Without JavaScript the form still posts as plain multipart and the edge answers with a page.
(function () {
  "use strict";
  var form = document.getElementById("product-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.fetch) { return; }
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var list = document.getElementById("upload-progress");
  var errorBox = document.getElementById("upload-error");
  var status = document.getElementById("upload-status");
  var submit = document.getElementById("submit-button");
  var FILE_INPUTS = ["files", "cover", "images", "sample"];
  var TEXT_FIELDS = ["slug", "title", "category", "tags", "price", "currency", "pwyw_minimum", "summary",
                     "license", "version", "description", "action"];

  function chosen() {
    var out = [];
    FILE_INPUTS.forEach(function (name) {
      var input = document.getElementById(name);
      for (var i = 0; i < input.files.length; i++) { out.push({field: name, file: input.files[i]}); }
    });
    return out;
  }

  function showList() {
    list.textContent = "";
    chosen().forEach(function (item, i) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = item.file.name + " ";
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0; bar.id = "progress-" + i;
      bar.setAttribute("aria-label", "Upload of " + item.file.name);
      li.appendChild(label); li.appendChild(bar);
      list.appendChild(li);
    });
  }

  // --- messages beside their fields -------------------------------------------------------
  function clearErrors() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    Array.prototype.forEach.call(form.querySelectorAll(".edge-field-error"), function (p) {
      p.textContent = ""; p.hidden = true;
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
  }

  function fieldError(name, text) {
    var input = document.getElementById(name);
    if (!input) { return false; }
    var p = document.getElementById(name + "-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "edge-field-error"; p.id = name + "-error"; p.setAttribute("role", "alert");
      var after = input.closest(".dd-dropzone") || input;
      after.parentNode.insertBefore(p, after.nextSibling);
    }
    p.textContent = text; p.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", p.id);
    return true;
  }

  function showErrors(body, fallback) {
    var fields = body.fields || {};
    var unplaced = [];
    var first = null;
    Object.keys(fields).forEach(function (k) {
      if (fieldError(k, fields[k])) { first = first || document.getElementById(k); } else { unplaced.push(fields[k]); }
    });
    errorBox.textContent = [body.message || fallback].concat(unplaced).join(" ");
    errorBox.hidden = false;
    if (first && first.focus) { first.focus(); }
  }

  // --- progress: percentage, speed, time left ----------------------------------------------
  function megabytes(bytes) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }

  function duration(seconds) {
    if (!isFinite(seconds)) { return "working out the time left"; }
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) { return "about " + seconds + " s left"; }
    var minutes = Math.round(seconds / 60);
    return minutes < 60 ? "about " + minutes + " min left"
                        : "about " + Math.floor(minutes / 60) + " h " + (minutes % 60) + " min left";
  }

  function progressText(loaded, total, elapsed) {
    var percent = total ? Math.floor(100 * loaded / total) : 100;
    var speed = elapsed > 0 ? loaded / elapsed : 0;
    return percent + "% · " + megabytes(loaded) + " of " + megabytes(total) + " · " +
      (speed ? megabytes(speed) + "/s · " + duration((total - loaded) / speed) : "starting");
  }

  function busy(on) {
    submit.disabled = on;
    submit.setAttribute("aria-busy", on ? "true" : "false");
    status.hidden = !on && !status.textContent;
  }

  // --- drag and drop, preview ----------------------------------------------------------------
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

  // --- pre-flight, then the upload ------------------------------------------------------------
  function preflight(items) {
    var fields = {};
    TEXT_FIELDS.forEach(function (name) {
      var el = form.elements[name];
      if (el && typeof el.value === "string") { fields[name] = el.value; }
    });
    var files = items.map(function (item) { return {field: item.field, name: item.file.name, size: item.file.size}; });
    return fetch("/seller/products/check", {
      method: "POST", credentials: "same-origin", body: JSON.stringify({fields: fields, files: files}),
      headers: {"X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": "application/json"}
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return {status: r.status, body: body}; });
    });
  }

  function upload(items) {
    var data = new FormData(form);
    var xhr = new XMLHttpRequest();
    var started = Date.now();
    xhr.open("POST", form.getAttribute("action"));  // not form.action: a field is named "action"
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    status.textContent = "Uploading…"; status.hidden = false;
    xhr.upload.addEventListener("progress", function (ev) {
      var done = ev.loaded;
      items.forEach(function (item, i) {
        var bar = document.getElementById("progress-" + i);
        var part = Math.max(0, Math.min(item.file.size, done));
        bar.value = item.file.size ? Math.round(100 * part / item.file.size) : 100;
        done -= item.file.size;
      });
      if (ev.lengthComputable) { status.textContent = progressText(ev.loaded, ev.total, (Date.now() - started) / 1000); }
    });
    xhr.upload.addEventListener("load", function () {
      status.textContent = "100% · checking the files for viruses and type…";
    });
    xhr.addEventListener("load", function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201 && body.redirect) {
        items.forEach(function (item, i) { document.getElementById("progress-" + i).value = 100; });
        status.textContent = "Received.";
        window.location.assign(body.redirect);
        return;
      }
      status.textContent = "";
      busy(false);
      showErrors(body, "The upload failed (" + xhr.status + ").");
    });
    xhr.addEventListener("error", function () {
      status.textContent = "";
      busy(false);
      showErrors({}, "The upload was interrupted. Please try again.");
    });
    xhr.send(data);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (submit.disabled) { return; }
    clearErrors();
    var items = chosen();
    showList();
    busy(true);
    status.textContent = "Checking the form…"; status.hidden = false;
    preflight(items).then(function (answer) {
      if (answer.status === 200 && answer.body.ok) { upload(items); return; }
      status.textContent = "";
      busy(false);
      showErrors(answer.body, "The form could not be checked (" + answer.status + ").");
    }, function () {
      status.textContent = "";
      busy(false);
      showErrors({}, "The form could not be checked: the connection failed. Please try again.");
    });
  });
}());
