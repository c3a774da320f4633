"""pyovs.vswitchd: see ../shared/DESIGN.md, 'The house'."""
