"""pyovs.openflow: see ../shared/DESIGN.md, 'The house'."""
