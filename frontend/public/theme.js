// The colour theme before the first paint (no flash): the saved choice, else the system's.
// src/lib/theme.ts switches it afterwards; both read the same key.
(function () {
  var saved = null;
  try {
    saved = localStorage.getItem("farm-theme");
  } catch (e) {}
  var dark = saved === "dark" || (saved !== "light" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
})();
