// A grid cell that links within the dashboards (a campaign's name opens its detail view):
// the href is the row's `<field>_href`, written by the server (components.grid_rows).
// dcc.Link navigates without reloading the page, as the links outside grids do.
(function () {
    "use strict";
    var functions = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
    functions.PageLink = function (props) {
        var href = props.data && props.data[props.colDef.field + "_href"];
        if (!href || href.charAt(0) !== "/" || href.charAt(1) === "/") {
            return props.value;
        }
        return window.React.createElement(window.dash_core_components.Link, { href: href }, props.value);
    };
})();
