// Sets <html data-theme> before the first paint, so a saved theme does not
// flash the other one while the app loads (same rule as src/chat/theme.ts).
(function () {
  var theme = 'light';
  try {
    var saved = window.localStorage.getItem('parley.theme');
    if (saved === 'light' || saved === 'dark') theme = saved;
    else if (window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches) theme = 'dark';
  } catch (e) {
    if (window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches) theme = 'dark';
  }
  document.documentElement.setAttribute('data-theme', theme);
})();
