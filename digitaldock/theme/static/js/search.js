// Search page: queries the static index (/search/index.json) in the browser, with filters
// (category, price range, rating) and sorting (newest, price, rating). Without JavaScript the
// page offers the category and sorted listing pages instead.
const root = document.getElementById("search");
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const sortSelect = document.getElementById("search-sort");
const statusEl = document.getElementById("search-status");
const results = document.getElementById("search-results");
const FILTERS = ["category", "price", "rating"];

// Same folding as generator/search.py: lower case, accents removed.
const fold = (s) => s.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function score(product, terms) {
  if (!terms.length) return 1;
  let total = 0;
  for (const term of terms) {
    const re = new RegExp("(^|[^a-z0-9])" + term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    if (!re.test(product.text)) return 0;
    total += re.test(product.title_text) ? 3 : 1;
  }
  return total;
}

const SORTS = {
  "newest:desc": (a, b) => b.published.localeCompare(a.published),
  "price:asc": (a, b) => a.price_sort - b.price_sort,
  "price:desc": (a, b) => b.price_sort - a.price_sort,
  "rating:desc": (a, b) => b.rating_sort - a.rating_sort || b.rating_count - a.rating_count,
  "popularity:desc": (a, b) => b.sold_30d - a.sold_30d,
};

function card(p) {
  const li = el("li", { class: "card" });
  const a = el("a", { class: "card-link", href: p.url });
  a.append(el("img", { src: p.cover.src, width: p.cover.width, height: p.cover.height, alt: "", loading: "lazy" }));
  a.append(el("span", { class: "card-title" }, p.title));
  li.append(a);
  li.append(el("span", { class: "card-meta" }, `${p.seller} · ${p.category}`));
  const foot = el("span", { class: "card-foot" });
  foot.append(el("span", { class: "price" }, p.price));
  if (p.rating) foot.append(el("span", { class: "rating" }, `★ ${p.rating}`));
  li.append(foot);
  return li;
}

async function main() {
  const response = await fetch("/search/index.json");
  if (!response.ok) throw new Error("index " + response.status);
  const index = await response.json();
  root.hidden = false;
  document.getElementById("search-js-note").hidden = true;
  for (const name of FILTERS) {
    const box = document.getElementById("filter-" + name);
    for (const value of index.filters[name]) {
      const count = index.products.filter((p) => p.filters[name].includes(value)).length;
      if (!count) continue;
      const id = `f-${name}-${value}`.replace(/[^a-zA-Z0-9_-]/g, "-");
      const label = el("label", { for: id });
      label.append(el("input", { type: "checkbox", id, name, value }), ` ${value} (${count})`);
      box.append(label);
    }
  }
  const params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  for (const name of FILTERS) {
    for (const v of params.getAll(name)) {
      for (const box of form.querySelectorAll(`input[name="${name}"]`)) if (box.value === v) box.checked = true;
    }
  }
  if (params.get("sort") && SORTS[params.get("sort")]) sortSelect.value = params.get("sort");

  function run() {
    const terms = fold(input.value).split(/[^a-z0-9]+/).filter(Boolean);
    const chosen = {};
    for (const name of FILTERS) {
      const checked = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => c.value);
      if (checked.length) chosen[name] = checked;
    }
    let found = index.products
      .filter((p) => Object.entries(chosen).every(([name, values]) => values.some((v) => p.filters[name].includes(v))))
      .map((p) => [score(p, terms), p])
      .filter(([s]) => s > 0);
    const sorter = SORTS[sortSelect.value];
    found.sort(sorter ? (a, b) => sorter(a[1], b[1]) || a[1].url.localeCompare(b[1].url)
                      : (a, b) => b[0] - a[0] || b[1].published.localeCompare(a[1].published));
    results.replaceChildren(...found.slice(0, 60).map(([, p]) => card(p)));
    const n = found.length;
    statusEl.textContent = `${n} product${n === 1 ? "" : "s"} found`;
    const url = new URL(location.href);
    url.search = "";
    if (input.value.trim()) url.searchParams.set("q", input.value.trim());
    for (const [name, values] of Object.entries(chosen)) for (const v of values) url.searchParams.append(name, v);
    if (sortSelect.value) url.searchParams.set("sort", sortSelect.value);
    history.replaceState(null, "", url);
  }
  form.addEventListener("input", run);
  form.addEventListener("change", run);
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
  run();
}

main().catch(() => {
  root.hidden = false;
  statusEl.textContent = "Search is unavailable right now; browse the categories below.";
});
