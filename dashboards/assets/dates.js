// The date range picker commits a typed date only on Enter. A start typed and left by
// clicking into the end field would be lost, and the end then set against the old start
// (dashboards.urls.typed_range). Keep the start field's typed date in the page's
// `<page>-typed-start` store when focus leaves it, for the filter callback to read.
(function () {
    "use strict";
    var FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;
    document.addEventListener("focusout", function (event) {
        var field = event.target;
        if (!field || !field.classList || !field.classList.contains("dash-datepicker-start-date")) {
            return;
        }
        var match = /^(.*)-filter-dates$/.exec(field.id || "");
        var typed = (field.value || "").trim();
        if (!match || !FULL_DATE.test(typed) || !window.dash_clientside) {
            return;
        }
        // Focus also leaves a field the page is taking away (navigation, a re-render):
        // its store is gone then, and setting it would fail in Dash's renderer.
        window.setTimeout(function () {
            if (field.isConnected) {
                window.dash_clientside.set_props(match[1] + "-typed-start", {data: typed});
            }
        }, 0);
    }, true);
})();
