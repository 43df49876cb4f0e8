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

// A chart's text alternative: its card's "view as table" button swaps the chart for a
// table of the data it draws (each trace a column), and back.
(function () {
    "use strict";
    function number(value) {
        return typeof value === "number" ? value.toLocaleString(undefined, {maximumFractionDigits: 2}) : value;
    }
    function label(value) {
        if (value instanceof Date) {
            return value.toISOString().slice(0, 10);
        }
        return typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value) ? value.slice(0, 10) : value;
    }
    function rowsOf(traces, layout) {
        // {header: [...], rows: [[...]]}: categories down the side, one column per trace.
        var first = traces[0];
        if (first.type === "pie" || first.type === "treemap") {
            return {
                header: ["", first.name || ""],
                rows: (first.labels || []).map(function (name, i) { return [name, number((first.values || [])[i])]; })
            };
        }
        if (first.type === "heatmap") {
            var header = [""].concat((first.x || []).map(label));
            return {
                header: header,
                rows: (first.y || []).map(function (y, i) {
                    return [label(y)].concat((first.z[i] || []).map(number));
                })
            };
        }
        var horizontal = first.orientation === "h";
        var byKey = {};
        var keys = [];
        traces.forEach(function (trace, column) {
            var categories = horizontal ? trace.y : trace.x;
            var values = horizontal ? trace.x : trace.y;
            (categories || []).forEach(function (category, i) {
                var key = String(label(category));
                if (!(key in byKey)) {
                    byKey[key] = new Array(traces.length).fill("");
                    keys.push(key);
                }
                byKey[key][column] = number(values[i]);
            });
        });
        // An unnamed trace is headed by its value axis's title (the unit, e.g. 万元).
        var axis = ((layout || {})[horizontal ? "xaxis" : "yaxis"] || {}).title || {};
        var unit = typeof axis === "string" ? axis : axis.text || "";
        return {
            header: [""].concat(traces.map(function (trace) { return trace.name || unit; })),
            rows: keys.map(function (key) { return [key].concat(byKey[key]); })
        };
    }
    function tableFor(plot) {
        var traces = (plot.data || []).filter(function (trace) { return trace.visible !== false; });
        var table = document.createElement("table");
        table.className = "data-table chart-table";
        if (!traces.length) {
            return table;
        }
        var shape = rowsOf(traces, plot.layout);
        var head = table.createTHead().insertRow();
        shape.header.forEach(function (text) {
            var cell = document.createElement("th");
            cell.textContent = text;
            head.appendChild(cell);
        });
        var body = table.createTBody();
        shape.rows.forEach(function (values) {
            var row = body.insertRow();
            values.forEach(function (value, i) {
                var cell = row.insertCell();
                cell.textContent = value === undefined || value === null ? "" : value;
                if (i > 0) {
                    cell.className = "num";
                }
            });
        });
        return table;
    }
    document.addEventListener("click", function (event) {
        var button = event.target && event.target.closest && event.target.closest(".chart-table-toggle");
        if (!button) {
            return;
        }
        var holder = document.getElementById(button.getAttribute("data-chart"));
        var plot = holder && (holder.classList.contains("js-plotly-plot") ? holder : holder.querySelector(".js-plotly-plot"));
        var body = button.closest(".card").querySelector(".card-body");
        var shown = body.querySelector(".chart-table-wrap");
        var showing = !shown;
        if (shown) {
            shown.remove();
        } else if (plot) {
            var wrap = document.createElement("div");
            wrap.className = "table-wrap chart-table-wrap";
            wrap.id = button.getAttribute("data-chart") + "-table";
            wrap.appendChild(tableFor(plot));
            body.appendChild(wrap);
        }
        body.classList.toggle("as-table", showing);
        button.setAttribute("aria-pressed", showing ? "true" : "false");
        var other = button.getAttribute("data-label-chart");
        button.setAttribute("data-label-chart", button.textContent);
        button.textContent = other;
    });
})();
