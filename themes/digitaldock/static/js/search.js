// Search page: queries the static Pagefind index in the browser, with filters and sorting.
const root = document.getElementById("search");
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const sortSelect = document.getElementById("search-sort");
const statusEl = document.getElementById("search-status");
const results = document.getElementById("search-results");
const FILTERS = ["category", "price", "rating"];

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function main() {
  const pagefind = await import("/pagefind/pagefind.js");
  await pagefind.options({ excerptLength: 20 });
  root.hidden = false;
  const available = await pagefind.filters();
  for (const name of FILTERS) {
    const box = document.getElementById("filter-" + name);
    const values = Object.keys(available[name] || {}).sort();
    for (const value of values) {
      const id = `f-${name}-${value}`.replace(/[^a-zA-Z0-9_-]/g, "-");
      const label = el("label", { for: id });
      const check = el("input", { type: "checkbox", id, name, value });
      label.append(check, ` ${value} (${available[name][value]})`);
      box.append(label);
    }
  }
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  for (const name of FILTERS) {
    for (const v of params.getAll(name)) {
      const box = form.querySelector(`input[name="${name}"][value="${CSS.escape(v)}"]`);
      if (box) box.checked = true;
    }
  }
  if (params.get("sort")) sortSelect.value = params.get("sort");

  async function run() {
    const filters = {};
    for (const name of FILTERS) {
      const checked = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => c.value);
      if (checked.length) filters[name] = { any: checked };
    }
    const opts = { filters };
    if (sortSelect.value) {
      const [key, dir] = sortSelect.value.split(":");
      opts.sort = { [key]: dir };
    }
    const term = input.value.trim() || null;
    const search = await pagefind.search(term, opts);
    const items = await Promise.all(search.results.slice(0, 48).map((r) => r.data()));
    results.replaceChildren();
    for (const item of items) {
      const li = el("li", { class: "card" });
      const a = el("a", { class: "card-link", href: item.url });
      if (item.meta.image) a.append(el("img", { src: item.meta.image, alt: "", width: "600", height: "400", loading: "lazy" }));
      a.append(el("span", { class: "card-title" }, item.meta.title));
      li.append(a);
      li.append(el("span", { class: "card-meta" }, item.meta.seller || ""));
      const foot = el("span", { class: "card-foot" });
      foot.append(el("span", { class: "price" }, item.meta.price || ""));
      li.append(foot);
      results.append(li);
    }
    const n = search.results.length;
    statusEl.textContent = `${n} product${n === 1 ? "" : "s"} found`;
    const url = new URL(location.href);
    url.search = "";
    if (input.value.trim()) url.searchParams.set("q", input.value.trim());
    for (const [name, f] of Object.entries(filters)) for (const v of f.any) url.searchParams.append(name, v);
    if (sortSelect.value) url.searchParams.set("sort", sortSelect.value);
    history.replaceState(null, "", url);
  }
  form.addEventListener("input", run);
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
  await run();
}

main().catch((err) => {
  root.hidden = false;
  statusEl.textContent = "Search is unavailable right now; browse the categories below.";
  console.error(err);
});
