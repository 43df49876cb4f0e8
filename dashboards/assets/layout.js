// Phones and keyboards.
// - The header's menu button and each filter bar's button fold the navigation and the
//   filter controls away on a narrow screen (CSS shows them always on a wide one).
// - Every filter change renders the page again from the URL, which drops the keyboard
//   focus onto the page body; put it back on the control that had it.
(function () {
    "use strict";
    function toggle(button, container) {
        var open = !container.classList.contains("open");
        container.classList.toggle("open", open);
        button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    document.addEventListener("click", function (event) {
        var target = event.target;
        if (!target || !target.closest) {
            return;
        }
        var menu = target.closest("#nav-toggle");
        if (menu) {
            toggle(menu, document.getElementById("app-header"));
            return;
        }
        var filters = target.closest(".filter-toggle");
        if (filters) {
            toggle(filters, filters.closest(".filter-bar"));
            return;
        }
        if (target.closest(".nav-link")) {
            var header = document.getElementById("app-header");
            if (header) {
                header.classList.remove("open");
            }
        }
    });

    var lastFocused = null;
    document.addEventListener("focusin", function (event) {
        var holder = event.target && event.target.closest && event.target.closest("[id]");
        if (holder && holder.id && holder.id.indexOf("-filter-") !== -1) {
            lastFocused = holder.id;
        }
    });
    function restoreFocus() {
        if (!lastFocused || (document.activeElement && document.activeElement !== document.body)) {
            return;
        }
        var holder = document.getElementById(lastFocused);
        if (!holder) {
            return;
        }
        var focusable = holder.matches("input, button, a, select, textarea")
            ? holder
            : holder.querySelector("input:checked, input, button, a, [tabindex]");
        if (focusable) {
            focusable.focus({preventScroll: true});
        }
    }
    new MutationObserver(function () {
        window.requestAnimationFrame(restoreFocus);
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
