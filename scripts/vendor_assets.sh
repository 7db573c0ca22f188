#!/usr/bin/env bash
# Re-vendor the front-end assets under static/vendor/ from the npm registry (no CDN at run time),
# and axe-core, which only the browser tests use, under tests/assets/ (never served).
#
# Usage (from anywhere):  scripts/vendor_assets.sh
# Upgrade:                BOOTSTRAP_ITALIA=2.19 AXE_CORE=4.15 scripts/vendor_assets.sh
#   Each variable is an npm version or range; the newest matching version is used and
#   written into static/vendor/SOURCES.md. plotly.js is the npm release of the version the
#   Python plotly package in .venv ships (so the JS matches the figures the server builds):
#   its partial "finance" bundle, the smallest official one with every trace type the
#   charts use (bar, scatter, funnel), and its Italian locale. Upgrade it by upgrading
#   plotly in the locks (docs/dependencies.md), then re-run this script.
#   tests/test_vendored_assets.py checks the files against the SHA-256 this script records.
#
# Needs: npm, node, sha256sum. Works in a throw-away directory, never in the repository.
set -euo pipefail

BOOTSTRAP_ITALIA="${BOOTSTRAP_ITALIA:-2.18.3}"
AXE_CORE="${AXE_CORE:-4.14.1}"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_plotly="${PYTHON_PLOTLY_JS:-$(ls "$repo"/.venv/lib/python3*/site-packages/plotly/package_data/plotly.min.js | head -n 1)}"
out="$repo/static/vendor"
test_assets="$repo/tests/assets"
work="$(mktemp -d "${TMPDIR:-/tmp}/vendor-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

resolve() { # newest published version matching an npm spec
    npm view "$1@$2" version --json | node -e '
        let v = JSON.parse(require("fs").readFileSync(0, "utf8"));
        if (Array.isArray(v)) v = v[v.length - 1];
        if (!v) process.exit(1);
        console.log(v);'
}

fetch() { # npm pack a package into $work/<name>/package and print its integrity
    local name="$1" version="$2"
    mkdir -p "$work/$name"
    (cd "$work/$name" && npm pack --silent "$name@$version" >/dev/null && tar xzf ./*.tgz)
    npm view "$name@$version" dist.integrity
}

bi_version="$(resolve bootstrap-italia "$BOOTSTRAP_ITALIA")"
axe_version="$(resolve axe-core "$AXE_CORE")"
plotly_version="$(head -c 200 "$python_plotly" | sed -n 's/^\* plotly\.js v\([0-9][0-9.]*\).*/\1/p')"
[ -n "$plotly_version" ] || { echo "cannot read the plotly.js version from $python_plotly" >&2; exit 1; }
python_plotly_version="$("$repo/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("plotly"))')"

echo "bootstrap-italia $bi_version, axe-core $axe_version, plotly.js $plotly_version (Python plotly $python_plotly_version)"
bi_integrity="$(fetch bootstrap-italia "$bi_version")"
axe_integrity="$(fetch axe-core "$axe_version")"
plotly_integrity="$(fetch plotly.js "$plotly_version")"

bi="$work/bootstrap-italia/package"
axe="$work/axe-core/package"
plotly="$work/plotly.js/package"

rm -rf "$out/bootstrap-italia" "$out/plotly" "$test_assets/axe-core"
mkdir -p "$out/bootstrap-italia/css" "$out/bootstrap-italia/js" "$out/bootstrap-italia/svg" \
    "$out/plotly" "$test_assets/axe-core"

# Bootstrap Italia: the CSS, the bundle (Bootstrap + Popper + the Italia components), the
# icon sprite, and the fonts. Only .woff2 is shipped: every browser Bootstrap 5 supports
# reads it, and the fonts' own @font-face lists it before the older formats.
cp "$bi/LICENSE" "$out/bootstrap-italia/LICENSE"
# Without its source map line (and the blank line left before it): the map is not shipped,
# and collectstatic's manifest storage refuses references to missing files.
sed '/sourceMappingURL=/d' "$bi/dist/css/bootstrap-italia.min.css" \
    | sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}' > "$out/bootstrap-italia/css/bootstrap-italia.min.css"
cp "$bi/dist/js/bootstrap-italia.bundle.min.js" "$out/bootstrap-italia/js/"
cp "$bi/dist/svg/sprites.svg" "$out/bootstrap-italia/svg/"
(cd "$bi/dist" && find fonts -type f \( -name '*.woff2' -o -iname 'OFL.txt' -o -iname 'LICENSE*' \) \
    -exec cp --parents {} "$out/bootstrap-italia/" \;)

# The CSS has no @font-face for its text fonts: upstream loads them with loadFonts(), which
# injects a <style> element and so needs 'unsafe-inline' under CSP. Write the same rules
# as a static stylesheet instead, from the loader's own template, woff2 sources only.
node - "$bi/src/js/plugins/fonts-loader.js" "$out/bootstrap-italia/css/fonts.css" "$bi_version" <<'EOF'
const fs = require("fs");
const [source, target, version] = process.argv.slice(2);
const template = fs.readFileSync(source, "utf8");
const blocks = template.match(/@font-face\s*\{[\s\S]*?\n\s*\}/g) || [];
const field = (block, name) => (block.match(new RegExp(name + ":\\s*([^;]+);")) || [])[1];
const rules = blocks.map((block) => {
  const woff2 = block.match(/\$\{__PUBLIC_PATH__\}(\/[^')]+\.woff2)/);
  if (!woff2) throw new Error("no woff2 source in " + block);
  return `@font-face{font-family:${field(block, "font-family")};font-style:${field(block, "font-style")};` +
    `font-weight:${field(block, "font-weight")};font-display:swap;` +
    `src:url("../fonts${woff2[1]}") format("woff2")}`;
});
if (rules.length < 10) throw new Error("unexpected fonts-loader.js: " + rules.length + " rules");
fs.writeFileSync(target,
  `/* Generated by scripts/vendor_assets.sh from bootstrap-italia ${version} src/js/plugins/fonts-loader.js */\n` +
  rules.join("\n") + "\n");
EOF

# axe-core: the engine the accessibility tests inject into pages (tests/browser/conftest.py);
# outside static/, so collectstatic never gathers it and production never serves it.
cp "$axe/axe.min.js" "$axe/LICENSE" "$axe/LICENSE-3RD-PARTY.txt" "$test_assets/axe-core/"

# plotly.js, npm release of the Python package's version: the partial bundle with the trace
# types the figures use (authority/dashboard/charts/figures.py: Scatter, Bar, Funnel;
# authority/federation/charts.py: bar), a quarter of the full bundle's size; the static
# stylesheet (lets a page opt out of plotly's injected <style>); the Italian locale, a
# self-registering script (plotly.js-locales ships the same dictionary as a CommonJS module,
# which a browser cannot load as it is).
if ! cmp -s "$python_plotly" "$plotly/dist/plotly.min.js"; then
    echo "warning: the Python package's plotly.min.js differs from npm plotly.js@$plotly_version" >&2
fi
for trace in bar scatter funnel; do
    grep -q "$trace" "$plotly/lib/index-finance.js" || [ "$trace" = scatter ] \
        || { echo "the finance bundle lost the $trace trace" >&2; exit 1; }
done
cp "$plotly/dist/plotly-finance.min.js" "$plotly/dist/plotly-locale-it.js" \
    "$plotly/dist/plotly.css" "$plotly/LICENSE" "$out/plotly/"

# Every url() in the stylesheets must be a data: URI or resolve to a copied file.
node - "$out" <<'EOF'
const fs = require("fs"), path = require("path");
const root = process.argv[2];
let bad = 0;
for (const css of ["bootstrap-italia/css/bootstrap-italia.min.css", "bootstrap-italia/css/fonts.css", "plotly/plotly.css"]) {
  const text = fs.readFileSync(path.join(root, css), "utf8");
  for (const match of text.matchAll(/url\(\s*(["']?)(?!data:|#|%23)([^"')]+)\1\s*\)/g)) {
    const raw = match[2];
    const file = path.resolve(path.dirname(path.join(root, css)), raw.split(/[?#]/)[0]);
    if (!fs.existsSync(file)) { console.error(`${css}: ${raw} does not resolve`); bad++; }
  }
}
if (bad) process.exit(1);
EOF

maplibre_style_id="$(grep -o 'getElementById("[0-9a-f]\{64\}")' "$out/plotly/plotly-finance.min.js" | head -n 1 | cut -d'"' -f2)"
size() { du -sh "$1" | cut -f1; }

cat >"$out/SOURCES.md" <<EOF
# Vendored front-end assets

Served by Django/WhiteNoise from \`static/vendor/\`; nothing is loaded from a CDN at run
time and npm is not needed to run the site. axe-core, which only the browser tests use, is
kept in \`tests/assets/axe-core/\`, outside the static files, so production never serves it.
Regenerate (or upgrade) with \`scripts/vendor_assets.sh\`, which rewrites this file; do not
edit the copies by hand: \`tests/test_vendored_assets.py\` checks every file below against its
SHA-256 and fails on a file that is not listed.

| Asset | Version | Source | License |
|---|---|---|---|
| \`bootstrap-italia/css/bootstrap-italia.min.css\` | bootstrap-italia $bi_version | npm \`bootstrap-italia@$bi_version\` \`dist/css/\`, without its source-map line | BSD-3-Clause (\`bootstrap-italia/LICENSE\`) |
| \`bootstrap-italia/js/bootstrap-italia.bundle.min.js\` | bootstrap-italia $bi_version | npm \`dist/js/\` (bundles Bootstrap 5, Popper, Splide, just-validate, video.js, anime.js...) | BSD-3-Clause; bundled libraries MIT or Apache-2.0 (video.js family), headers kept in the file |
| \`bootstrap-italia/svg/sprites.svg\` | bootstrap-italia $bi_version | npm \`dist/svg/\` | BSD-3-Clause |
| \`bootstrap-italia/fonts/\` (Titillium Web, Roboto Mono, Lora; \`.woff2\` only) | bootstrap-italia $bi_version | npm \`dist/fonts/\` | SIL OFL 1.1 (Titillium Web, Lora: \`OFL.txt\`), Apache-2.0 (Roboto Mono: \`LICENSE.txt\`) |
| \`bootstrap-italia/css/fonts.css\` | generated | from npm \`src/js/plugins/fonts-loader.js\` (the @font-face rules \`loadFonts()\` would inject), \`woff2\` sources only | BSD-3-Clause |
| \`tests/assets/axe-core/axe.min.js\` (tests only, not served) | axe-core $axe_version | npm \`axe-core@$axe_version\` | MPL-2.0 (\`axe-core/LICENSE\`, \`LICENSE-3RD-PARTY.txt\`) |
| \`plotly/plotly-finance.min.js\` | plotly.js $plotly_version | npm \`plotly.js@$plotly_version\` \`dist/plotly-finance.min.js\` (partial bundle: scatter, bar, funnel, histogram, pie, waterfall, funnelarea, indicator, ohlc, candlestick; the version Python \`plotly\` $python_plotly_version ships) | MIT (\`plotly/LICENSE\`) |
| \`plotly/plotly-locale-it.js\` | plotly.js $plotly_version | npm \`plotly.js@$plotly_version\` \`dist/plotly-locale-it.js\` (the official Italian locale, as in \`plotly.js-locales\`) | MIT |
| \`plotly/plotly.css\` | plotly.js $plotly_version | npm \`plotly.js@$plotly_version\` \`dist/plotly.css\` | MIT |

npm integrity of the packages used:

- bootstrap-italia@$bi_version: \`$bi_integrity\`
- axe-core@$axe_version: \`$axe_integrity\`
- plotly.js@$plotly_version: \`$plotly_integrity\`

SHA-256 of the copied files, paths from the repository root (\`sha256sum -c\` reads these lines):

\`\`\`
$(cd "$repo" && find static/vendor/bootstrap-italia static/vendor/plotly tests/assets/axe-core -type f | LC_ALL=C sort | xargs sha256sum)
\`\`\`

Sizes: bootstrap-italia $(size "$out/bootstrap-italia"), plotly $(size "$out/plotly"); axe-core (tests only) $(size "$test_assets/axe-core").

## Using them

- Fonts: link \`bootstrap-italia/css/fonts.css\` after \`bootstrap-italia.min.css\`; do not
  call \`bootstrap.loadFonts()\` (it injects a \`<style>\` element).
- Icons: \`<svg class="icon"><use href="{% static 'vendor/bootstrap-italia/svg/sprites.svg' %}#it-check"></use></svg>\`.
- The stylesheets use \`data:\` URIs for small images (form validation marks, select
  arrows) and, for the video player only, a \`data:\` font: the CSP needs \`img-src 'self' data:\`
  (and \`font-src 'self' data:\` only if the video player is used).

## Content-Security-Policy notes (no \`'unsafe-inline'\`)

bootstrap-italia.bundle.min.js
- On load, video.js (bundled for the VideoPlayer component) injects
  \`<style class="vjs-styles-defaults">\` (function \`createStyleElement\`, minified \`Hv\`),
  unless \`window.VIDEOJS_NO_DYNAMIC_STYLE = true\` is set before the bundle runs (do it in a
  small static script, not inline). Without it the only effect is a CSP report.
- \`loadFonts()\` injects a \`<style>\` with @font-face rules: use \`css/fonts.css\` instead.
- Only when used: just-validate (FormValidate) in tooltip mode injects a \`<style>\`;
  the autocomplete components render a \`style="..."\` attribute through innerHTML on iOS;
  the YouTube tech of the video player uses \`setAttribute("style")\`, a \`<style>\` element
  and loads \`https://www.youtube.com/iframe_api\`; the Carousel (Splide) puts back the
  element's original \`style\` attribute with setAttribute when destroyed.
- Everything else (Bootstrap, Popper) sets styles through the CSSOM (\`element.style.x\`),
  which CSP allows.

plotly-finance.min.js
- On load, \`addStyleRule\` -> \`addRelatedStyleRule\` (src/lib/dom.js) creates
  \`<style id="plotly.js-style-global">\` and fills it with \`insertRule\`. It skips this if an
  element with that id and the class \`no-inline-styles\` already exists:
  \`<link rel="stylesheet" id="plotly.js-style-global" class="no-inline-styles" href="{% static 'vendor/plotly/plotly.css' %}">\`.
- On load, the maplibre-gl CSS (in the core, even without map traces) is injected as
  \`<style id="${maplibre_style_id:-?}">\` unless an element with that id already exists
  (only map traces need that CSS, so any element with the id will do).
- d3 \`.attr("style", ...)\` (setAttribute) for colorbar fills (empty value), image traces and
  \`heatmap\` with \`zsmooth: "fast"\`: blocked without \`'unsafe-inline'\`.
- WebGL traces (\`scattergl\`, \`splom\`, \`parcoords\`...) compile shader code with
  \`Function.apply\` (regl) and need \`'unsafe-eval'\`; SVG traces (scatter, bar) do not.
EOF

echo "done: $(size "$out") in $out"
