// Blazor's JS initializer for the console (loaded by blazor.web.js on every page).
// A page may carry its own script as <script src="…" data-page-script>. A full page load runs it as usual, but
// an enhanced navigation (a link followed without reloading) inserts the element without running it: after each
// enhanced load, every page script not loaded yet in this document is loaded here, once.
const loaded = new Set();

function loadPageScripts() {
  document.querySelectorAll('script[data-page-script]').forEach((element) => {
    const src = element.src;
    if (!src || loaded.has(src)) {
      return;
    }
    loaded.add(src);
    const script = document.createElement('script');
    script.src = src;
    document.body.appendChild(script);
  });
}

export function afterWebStarted(blazor) {
  // The scripts of the first page ran with it.
  document.querySelectorAll('script[data-page-script]').forEach((element) => loaded.add(element.src));
  blazor.addEventListener('enhancedload', loadPageScripts);
}
