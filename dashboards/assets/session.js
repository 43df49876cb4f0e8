// When the session ends while a page is open (logged out in another tab, the account
// disabled or its password reset, the session expired), the server refuses the page's
// callbacks with 401. Without this the page would stop updating and say nothing: send
// the browser to the login page instead, coming back here afterwards.
(function () {
    "use strict";
    var login = "/dashboards/login";
    var original = window.fetch.bind(window);
    window.fetch = function (resource, init) {
        return original(resource, init).then(function (response) {
            var url = typeof resource === "string" ? resource : (resource && resource.url) || "";
            var onLogin = window.location.pathname.replace(/\/+$/, "") === login;
            if (response.status === 401 && url.indexOf("_dash-update-component") !== -1 && !onLogin) {
                var here = window.location.pathname + window.location.search;
                window.location.assign(login + "?next=" + encodeURIComponent(here));
            }
            return response;
        });
    };
})();
