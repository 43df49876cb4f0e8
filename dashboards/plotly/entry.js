// plotly.js with only the trace types the dashboards draw (bar, scatter, heatmap, pie,
// treemap): about a quarter of the full bundle's size, so less to parse on every load.
// Build: docs/operations.md ("The dashboards' plotly.js"); the output is committed under assets/.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/pie'),
    require('plotly.js/lib/treemap'),
]);

module.exports = Plotly;
