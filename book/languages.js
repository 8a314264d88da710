// A link in the menu bar to the same page in the other edition: the English
// book is at the top of the build, the Russian one in `ru/` below it. Plain
// relative links, so it works from a file:// copy as well as from a server.
(function () {
    "use strict";
    const russian = document.documentElement.lang === "ru";
    const page = window.location.pathname.split("/").pop() || "index.html";
    const link = document.createElement("a");
    link.href = (russian ? "../" : "ru/") + page + window.location.hash;
    link.textContent = russian ? "English" : "Русский";
    link.lang = russian ? "en" : "ru";
    link.hreflang = link.lang;
    link.className = "rango-language";
    link.title = russian ? "Read this page in English" : "Читать эту страницу по-русски";
    link.style.cssText = "margin: 0 1em; font-size: 0.9em; align-self: center;";
    const buttons = document.querySelector(".right-buttons");
    if (buttons) {
        buttons.prepend(link);
    }
})();
