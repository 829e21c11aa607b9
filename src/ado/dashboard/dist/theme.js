// Applies the theme before the first paint: the saved choice, else the system's.
(function () {
  var saved = null;
  try { saved = localStorage.getItem("ado.theme"); } catch (e) {}
  var dark = saved ? saved === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.classList.toggle("dark", dark);
})();
