/* Cell renderers for dash-ag-grid (loaded from assets/, as the CSP allows). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

/* The aligned face of a batch row, as a small thumbnail; rows without a face show nothing. */
dagcomponentfuncs.FaceThumbnail = function (props) {
  if (!props.value) {
    return null;
  }
  return React.createElement("img", { src: props.value, alt: "aligned face", className: "batch-thumbnail" });
};

/* A probability as a whole percentage ("97%"); the cell keeps the number, so the column sorts by it. */
dagcomponentfuncs.Percent = function (props) {
  return props.value == null ? null : Math.round(100 * props.value) + "%";
};

/* An age in years with one decimal ("50.7"). */
dagcomponentfuncs.OneDecimal = function (props) {
  return props.value == null ? null : Number(props.value).toFixed(1);
};
