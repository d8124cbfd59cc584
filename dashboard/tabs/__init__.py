"""One module per tab of the page, each holding its layout and its callbacks."""
