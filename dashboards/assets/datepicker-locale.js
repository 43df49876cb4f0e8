// The date picker's calendar in the UI's language. Dash's picker formats with date-fns and
// takes its locale from `window.dateFns.locale` (a map of locales, read at each render),
// which is otherwise loaded from a CDN; nothing may be downloaded here, so the Chinese
// locale is written out below (the parts a calendar uses: month and weekday names, the
// week starting on Monday). English pages (`?lang=en`) get date-fns' built-in English.
(function () {
    "use strict";
    var MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
    var DAYS_SHORT = ["日", "一", "二", "三", "四", "五", "六"];
    var DAYS_WIDE = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];
    var PERIODS = {am: "上午", pm: "下午", midnight: "午夜", noon: "中午", morning: "早上",
        afternoon: "下午", evening: "晚上", night: "夜里"};
    var chinese = {
        code: "zh-CN",
        localize: {
            ordinalNumber: function (number) { return String(number); },
            era: function (index) { return index ? "公元" : "公元前"; },
            quarter: function (quarter) { return "第" + quarter + "季度"; },
            month: function (index, options) {
                return options && options.width === "narrow" ? String(index + 1) : MONTHS[index];
            },
            day: function (index, options) {
                return options && options.width === "wide" ? DAYS_WIDE[index] : DAYS_SHORT[index];
            },
            dayPeriod: function (period) { return PERIODS[period] || period; }
        },
        formatLong: {
            date: function () { return "yyyy-MM-dd"; },
            time: function () { return "HH:mm:ss"; },
            dateTime: function () { return "{{date}} {{time}}"; }
        },
        options: {weekStartsOn: 1, firstWeekContainsDate: 4}
    };
    function english() {
        return new URLSearchParams(window.location.search).get("lang") === "en";
    }
    window.dateFns = window.dateFns || {};
    Object.defineProperty(window.dateFns, "locale", {
        configurable: true,
        get: function () { return english() ? {} : {zhCN: chinese}; }
    });
})();
