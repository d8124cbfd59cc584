/* Cell renderers for dash-ag-grid (loaded from assets/, as the CSP allows). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

/* The aligned face of a batch row, as a small thumbnail; rows without a face show nothing. */
dagcomponentfuncs.FaceThumbnail = function (props) {
  if (!props.value) {
    return null;
  }
  return React.createElement("img", { src: props.value, alt: "face", className: "batch-thumbnail" });
};
